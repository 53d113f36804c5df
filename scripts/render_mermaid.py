"""Render every mermaid diagram of the README and docs/ in headless Chromium.

    python scripts/render_mermaid.py <path to mermaid.min.js>

Writes a page that renders each diagram with mermaid.js, loads it with
`chromium --headless --dump-dom`, and reports each diagram as rendered (an SVG) or
failed (mermaid's error). Exits 1 on any failure. Used by `make docs-check`; needs
Debian's chromium and the npm package mermaid, neither of which CI installs.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def diagrams() -> list[tuple[str, str]]:
    docs = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    return [
        (f"{doc.relative_to(ROOT)}#{index + 1}", block)
        for doc in docs
        for index, block in enumerate(re.findall(r"```mermaid\n(.*?)```", doc.read_text(), re.DOTALL))
    ]


PAGE = """<!doctype html><html><body><pre id="result">pending</pre>
<script src="mermaid.min.js"></script>
<script>
const diagrams = %s;
mermaid.initialize({startOnLoad: false, securityLevel: "strict"});
(async () => {
  const results = [];
  for (const [i, [name, text]] of diagrams.entries()) {
    try {
      const {svg} = await mermaid.render("d" + i, text);
      results.push([name, svg.startsWith("<svg") ? "rendered" : "no svg"]);
    } catch (e) {
      results.push([name, "failed: " + String(e.message || e).split("\\n")[0]]);
    }
  }
  document.getElementById("result").textContent = JSON.stringify(results);
})();
</script></body></html>"""


def main(argv: list[str]) -> int:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if len(argv) != 1 or chromium is None:
        print("usage: render_mermaid.py <mermaid.min.js> (needs chromium on PATH)", file=sys.stderr)
        return 2
    found = diagrams()
    with tempfile.TemporaryDirectory() as work:
        shutil.copy(argv[0], Path(work) / "mermaid.min.js")
        page = Path(work) / "index.html"
        page.write_text(PAGE % json.dumps(found))
        command = [
            chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={work}/profile",
            "--allow-file-access-from-files", "--virtual-time-budget=20000", "--dump-dom", page.as_uri(),
        ]  # fmt: skip
        dom = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False).stdout
    match = re.search(r'<pre id="result">(.*?)</pre>', dom, re.DOTALL)
    if match is None or match.group(1) == "pending":
        print("render_mermaid: the page did not finish rendering", file=sys.stderr)
        return 1
    results = json.loads(html.unescape(match.group(1)))
    for name, status in results:
        print(f"{status.split(':')[0]:>9}  {name}" + (f"  ({status})" if status != "rendered" else ""))
    failed = [name for name, status in results if status != "rendered"]
    print(f"{len(results) - len(failed)} rendered, {len(failed)} failed")
    return 1 if failed or len(results) != len(found) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
