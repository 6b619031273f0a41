// The page's translated strings (rendered by the server through Babel into #i18n); placeholders
// are written {name}, since Babel's own %(name)s would be filled in on the server.
const messages = JSON.parse(document.getElementById("i18n")?.textContent || "{}");

export function t(key, params = {}) {
  const text = messages[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(params[name] ?? ""));
}

export function formatTime(ms) {
  if (!ms) return t("never");
  return new Date(ms).toLocaleString(document.documentElement.lang || undefined,
    { dateStyle: "short", timeStyle: "short" });
}
