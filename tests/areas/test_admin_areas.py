"""Admins manage counties, townships and villages and import the village list from CSV."""

import io

from sqlalchemy import func, select

from village_survey.areas.models import Township, Village
from village_survey.extensions import db

HEADER = "county_code,township_code,township_name,village_code,village_name,registered_households\n"


def _upload(auth, content: bytes, name="villages.csv"):
    return auth.post("/admin/areas/import", {"file": (io.BytesIO(content), name)},
                     content_type="multipart/form-data", token_from="/admin/areas/import")


def test_import_keeps_good_rows_and_reports_bad_ones_by_line(auth, world):
    auth.login("admin")
    csv_text = HEADER + (
        "360402,360402100,甲镇,360402100201,新村,120\n"        # line 2: good, existing township
        "360402,360402102,新镇,360402102201,山村,80\n"         # line 3: good, new township
        "999999,999999100,某镇,999999100201,某村,10\n"         # line 4: unknown county
        "360402,360402100,甲镇,360402100202,坏村,many\n"       # line 5: not a number
        "360402,360402100,甲镇,360403100203,错村,10\n"         # line 6: village code outside township
        "360402,360402100,甲镇,360402100201,重复,10\n"         # line 7: duplicate in file
        "360402,360402100,甲镇,360402100200,甲村改,150\n"      # line 8: updates an existing village
    )
    response = _upload(auth, csv_text.encode("utf-8"))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    for line in ("4", "5", "6", "7"):
        assert f"<td>{line}</td>" in html
    assert "<td>2</td>" not in html and "<td>3</td>" not in html
    names = set(db.session.scalars(select(Village.name)))
    assert {"新村", "山村", "甲村改"} <= names and not {"某村", "坏村", "错村", "重复"} & names
    assert db.session.scalars(select(Township).where(Township.code == "360402102")).one().name == "新镇"
    assert db.session.scalars(select(Village).where(Village.code == "360402100200")).one().registered_households == 150


def test_import_reads_gbk_from_excel(auth, world):
    auth.login("admin")
    response = _upload(auth, (HEADER + "360402,360402100,甲镇,360402100209,樟树村,66\n").encode("gb18030"))
    assert response.status_code == 200
    assert db.session.scalars(select(Village).where(Village.code == "360402100209")).one().name == "樟树村"


def test_malformed_csv_is_refused_whole_and_writes_nothing(auth, world):
    auth.login("admin")
    before = db.session.scalar(select(func.count(Village.id)))
    for content in (b"\xff\xfe\x00garbage\x81", b"name,code\n\xe4\xb8\x80,1\n", b""):
        response = _upload(auth, content)
        assert response.status_code == 400
    assert "第一行须列出以下列名" in _upload(auth, b"name,code\nx,1\n").get_data(as_text=True)
    assert db.session.scalar(select(func.count(Village.id))) == before


def test_admin_creates_and_edits_a_village(auth, world, client):
    auth.login("admin")
    response = auth.post("/admin/areas/village/new", {"parent": world.township_a.id, "code": "360402100207",
                                                      "name": "新建村", "registered_households": "0"})
    assert response.status_code == 302
    village = db.session.scalars(select(Village).where(Village.code == "360402100207")).one()
    assert village.township_id == world.township_a.id and village.registered_households == 0
    response = auth.post(f"/admin/areas/village/{village.id}", {"parent": world.township_a.id,
                                                                 "code": "360402100207", "name": "改名村",
                                                                 "registered_households": "88"})
    assert response.status_code == 302
    db.session.expire_all()
    assert (village.name, village.registered_households) == ("改名村", 88)


def test_duplicate_or_bad_area_codes_are_refused(auth, world):
    auth.login("admin")
    response = auth.post("/admin/areas/county/new", {"code": "360402", "name": "重复"})
    assert response.status_code == 400 and "该代码已被使用" in response.get_data(as_text=True)
    response = auth.post("/admin/areas/village/new", {"parent": world.township_a.id, "code": "12",
                                                      "name": "x", "registered_households": "-3"})
    assert response.status_code == 400
    assert "12 位数字" in response.get_data(as_text=True)
    response = auth.post("/admin/areas/village/new", {"parent": "9999", "code": "360402100299",
                                                      "name": "x", "registered_households": "3"})
    assert response.status_code == 400


def test_import_creates_every_village_of_several_new_townships(auth, world):
    auth.login("admin")
    rows = [f"360402,3604021{t:02d},新镇{t},3604021{t:02d}{v:03d},新村{t}-{v},{50 + v}"
            for t in range(10, 14) for v in range(1, 6)]
    rows += [f"360403,3604031{t:02d},北镇{t},3604031{t:02d}{v:03d},北村{t}-{v},40" for t in range(10, 12)
             for v in range(1, 4)]
    response = _upload(auth, (HEADER + "\n".join(rows) + "\n").encode("utf-8"))
    assert response.status_code == 200
    assert "belongs to another county" not in response.get_data(as_text=True)
    assert "属于另一个" not in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Village.id)).where(Village.name.like("新村%"))) == 20
    assert db.session.scalar(select(func.count(Village.id)).where(Village.name.like("北村%"))) == 6
    townships = db.session.scalars(select(Township).where(Township.name.like("北镇%"))).all()
    assert len(townships) == 2 and {t.county_id for t in townships} == {world.county_b.id}


def test_import_refuses_a_new_township_claimed_by_two_counties(auth, world):
    auth.login("admin")
    csv_text = HEADER + ("360402,360402120,双镇,360402120001,一村,10\n"
                         "360403,360402120,双镇,360402120002,二村,10\n")
    html = _upload(auth, csv_text.encode("utf-8")).get_data(as_text=True)
    assert "<td>3</td>" in html and "<td>2</td>" not in html
    assert db.session.scalar(select(func.count(Village.id)).where(Village.code.like("360402120%"))) == 1
