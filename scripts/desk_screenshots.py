"""Take the README's screenshots of the editors' pages from a fresh demo instance.

Builds a demo instance in a temporary folder (the demo library, its index, an admin). While the
fact-check on the fake car-lottery message is back in draft, three people ask about that message
(two on WhatsApp, one in the web chat), so their questions wait in the inbox; it is published
again. Then headless Chromium photographs the library (docs/editors-library.png) and the
confirmation before the inbox group is linked to it and answered (docs/editors-link-confirm.png):
pages in Indonesian, 1280×800, colours reduced so that each PNG stays well under 200 KB.

    .venv/bin/python scripts/desk_screenshots.py            # writes docs/editors-*.png
    .venv/bin/python scripts/desk_screenshots.py --out /tmp/shots
"""

import argparse
import os
import secrets
import sys
import tempfile
import threading
from pathlib import Path

from PIL import Image
from playwright.sync_api import sync_playwright
from twilio.request_validator import RequestValidator
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHROMIUM = "/usr/bin/chromium"
VIEWPORT = {"width": 1280, "height": 800}
COLOURS = 128  # a page is flat colours and text: 128 of them read the same, in a smaller file
ANSWER = "demo-020"  # [PENIPUAN] Pesan Pemenang Undian Berhadiah Mobil yang Mengatasnamakan Bank
QUESTIONS = [  # (channel, who, text)
    ("whatsapp", "+6281200000101", "dapat WA menang undian mobil dari bank, disuruh transfer biaya admin"),
    ("whatsapp", "+6281200000102", "menang undian mobil dari bank lewat WA, harus transfer biaya admin dulu?"),
    ("web", "web-1", "ada pesan menang mobil dari bank katanya harus transfer"),
]


def flask(app, args: list[str], given: str | None = None) -> None:
    """Run a `flask` command of the app; stop here when it fails."""
    result = app.test_cli_runner().invoke(args=args, input=given)
    if result.exit_code != 0:
        raise SystemExit(f"flask {' '.join(args)} failed: {result.output}")


def demo_app(folder: str):
    """Make a demo app in folder with the demo library, its index and an admin account."""
    os.environ["FACTCHECK_ENV"] = "demo"
    from app import create_app
    app = create_app(instance_path=folder)
    password = secrets.token_urlsafe(12)
    flask(app, ["db", "upgrade"])
    flask(app, ["init-db", "--demo"])
    flask(app, ["index", "rebuild"])
    flask(app, ["editors", "create-admin", "redaksi"], f"{password}\n{password}\n")
    return app, password


def ask(app, channel: str, who: str, text: str) -> None:
    """Ask as a WhatsApp sender (a signed webhook) or a web chat session; turn down choices."""
    client = app.test_client()
    for number, message in enumerate((text, "0")):
        if channel == "web":
            reply = client.post("/api/messages", json={"text": message, "session": who}).json
            if reply["decision"] != "choices":
                return
            continue
        params = {"Body": message, "From": f"whatsapp:{who}", "To": "whatsapp:+14155238886",
                  "MessageSid": f"SM{who[1:]}{number:02d}".ljust(34, "0"), "NumMedia": "0"}
        signature = RequestValidator(app.config["TWILIO_AUTH_TOKEN"]).compute_signature(
            "http://localhost/whatsapp", params)
        page = client.post("/whatsapp", data=params, headers={"X-Twilio-Signature": signature}).text
        if "Balas 1" not in page:  # not a list of choices: the question is waiting already
            return


def save(page, path: Path) -> None:
    """Screenshot the viewport and reduce its colours (PNG, under 200 KB)."""
    page.screenshot(path=str(path))
    Image.open(path).convert("RGB").quantize(COLOURS).save(path, optimize=True)
    print(f"{path} ({path.stat().st_size // 1024} KB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(ROOT / "docs"), help="folder for the PNGs")
    out = Path(parser.parse_args().out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        app, password = demo_app(folder)
        flask(app, ["claims", "status", ANSWER, "draft"])
        for question in QUESTIONS:
            ask(app, *question)
        flask(app, ["claims", "status", ANSWER, "published"])
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_port}"
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
                page = browser.new_context(viewport=VIEWPORT, locale="id-ID").new_page()
                page.goto(base + "/editors/login")
                page.fill("input[name=username]", "redaksi")
                page.fill("input[name=password]", password)
                page.locator("main button[type=submit]").click()
                page.wait_for_url(base + "/editors/")
                save(page, out / "editors-library.png")
                page.goto(base + "/editors/inbox")
                page.locator("a.button", has_text="Tautkan ke cek fakta").first.click()
                page.locator(f"ul.results a.button[href$='claim_id={ANSWER}']").click()
                page.locator("#confirm").wait_for()
                save(page, out / "editors-link-confirm.png")
                browser.close()
        finally:
            server.shutdown()
            app.extensions["factcheck.db"].engine.dispose()


if __name__ == "__main__":
    main()
