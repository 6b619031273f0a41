"""Take phone-sized (390x844) screenshots of a running app: `python docs/screenshots.py [URL]`.

Logs in as the demo users and saves PNGs in docs/screens/ (the README uses docs/screenshot.png).
"""

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:5000"
OUT = Path(__file__).parent / "screens"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
PAGES = {
    "demo-surveyor": ["/", "/areas/"],
    "demo-reviewer": ["/areas/"],
    "demo-admin": ["/admin/users/", "/admin/areas/", "/admin/areas/import"],
}

OUT.mkdir(exist_ok=True)
with sync_playwright() as p:
    browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
    for user, paths in PAGES.items():
        context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2,
                                      is_mobile=True, locale="zh-CN")
        page = context.new_page()
        page.goto(f"{BASE}/login")
        page.fill("#username", user)
        page.fill("#password", "demo12345")
        page.click("button[type=submit].primary")
        page.wait_for_load_state()
        for path in paths:
            page.goto(BASE + path)
            name = f"{user}{path.replace('/', '_')}.png".replace("_.png", ".png")
            page.screenshot(path=str(OUT / name), full_page=False)
            if user == "demo-surveyor" and path == "/":
                page.screenshot(path=str(Path(__file__).parent / "screenshot.png"))
        context.close()
    browser.close()
print("saved in", OUT)
