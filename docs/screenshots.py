"""Screenshots of every page in both languages for the README (docs/*.png).

    .venv/bin/python docs/screenshots.py [--out docs] [--pages churn,loyalty] [--langs zh,en]

Builds the demo data (400 customers) in a temporary folder (or copies `--db`), starts `streamlit run app.py` on a free port
and photographs each page in Chromium as a reader sees it (the harness of tests/browser/conftest.py).
"""

from __future__ import annotations

import argparse
import pathlib
import shutil
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, AppServer, make_demo_db, open_page, wait_for_app  # noqa: E402

PAGES = ("overview", "funnel", "loyalty", "churn", "complaints", "followup", "data")
LOCALES = {"zh": ("zh-CN", "中文"), "en": ("en-US", "English")}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(ROOT / "docs"))
    ap.add_argument("--pages", default=",".join(PAGES))
    ap.add_argument("--langs", default="zh,en")
    ap.add_argument("--query", default="", help="extra address parameters, e.g. segment=business")
    ap.add_argument("--db", help="photograph this database instead of the demo data (it is copied, never changed)")
    args = ap.parse_args()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        db = pathlib.Path(tmp) / "shown.duckdb"
        if args.db:
            shutil.copyfile(args.db, db)
        else:
            make_demo_db(db)
        with AppServer(db, pathlib.Path(tmp)) as server, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for lang in args.langs.split(","):
                locale, name = LOCALES[lang]
                context = browser.new_context(viewport={"width": 1400, "height": 3200}, locale=locale)
                page = context.new_page()
                open_page(page, server.url)  # a fresh server's first visit runs the old pages mode once
                for view in args.pages.split(","):
                    query = f"lang={name}" + (f"&{args.query}" if args.query else "")
                    open_page(page, f"{server.url}/{view}?{query}")
                    page.get_by_test_id("stMain").locator("h1").first.wait_for()
                    wait_for_app(page)
                    path = out / f"{view}{'' if lang == 'en' else '_' + lang}.png"
                    # Streamlit scrolls inside its main area: photograph the content's own height, not the window's
                    height = page.evaluate("document.querySelector('[data-testid=\"stMainBlockContainer\"]').scrollHeight")
                    page.screenshot(path=str(path), clip={"x": 0, "y": 0, "width": 1400, "height": min(height + 80, 3200)})
                    print(path)
                context.close()
            browser.close()


if __name__ == "__main__":
    main()
