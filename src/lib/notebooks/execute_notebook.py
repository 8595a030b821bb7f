"""Execute one notebook with nbclient, cell by cell, and write the executed .ipynb and .html.

Driven by src/lib/notebooks/runner.ts (run with the project venv's python). Prints one JSON object
on its last stdout line: {"ok": bool, "seconds": float, "cells": int, "failure": {...} | null}.
The failure names the cell index, its first source line, and the kernel's stderr text: tslab
reports cell errors on stderr with an empty traceback, so that text is the error message.
"""
import json
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
from nbconvert import HTMLExporter


def cell_text(cell, stream_name):
    parts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream" and out.get("name") == stream_name:
            parts.append(out.get("text", ""))
        elif out.get("output_type") == "error" and stream_name == "stderr":
            tb = "\n".join(out.get("traceback") or [])
            parts.append(f"{out.get('ename', '')}: {out.get('evalue', '')}\n{tb}".strip())
    return "".join(parts).strip()


def main():
    src, out_dir, timeout, kernel = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    nb = nbformat.read(src, as_version=4)
    name = Path(src).stem
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name=kernel,
        resources={"metadata": {"path": str(Path(src).parent.resolve())}},
    )
    failure = None
    start = time.time()
    try:
        with client.setup_kernel():
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code":
                    continue
                try:
                    client.execute_cell(cell, index)
                except (CellExecutionError, CellTimeoutError, DeadKernelError) as err:
                    kind = type(err).__name__
                    stderr = cell_text(cell, "stderr")
                    lines = [l for l in cell.source.splitlines() if l.strip()]
                    failure = {
                        "kind": kind,
                        "cell_index": index,
                        "first_line": lines[0] if lines else "",
                        "stderr": stderr or str(err).strip()[-4000:],
                        "stdout_tail": cell_text(cell, "stdout")[-2000:],
                    }
                    break
    except Exception as err:  # kernel failed to start, etc.
        failure = {"kind": type(err).__name__, "cell_index": -1, "first_line": "", "stderr": str(err)[-4000:], "stdout_tail": ""}
    seconds = time.time() - start
    out_dir.mkdir(parents=True, exist_ok=True)
    ipynb_path = out_dir / f"{name}.ipynb"
    html_path = out_dir / f"{name}.html"
    tmp = out_dir / f".{name}.ipynb.tmp"
    nbformat.write(nb, str(tmp))
    tmp.replace(ipynb_path)
    body, _ = HTMLExporter(template_name="lab").from_notebook_node(nb)
    tmp = out_dir / f".{name}.html.tmp"
    tmp.write_text(body, encoding="utf-8")
    tmp.replace(html_path)
    print(json.dumps({
        "ok": failure is None,
        "seconds": round(seconds, 2),
        "cells": len(nb.cells),
        "ipynb": str(ipynb_path),
        "html": str(html_path),
        "failure": failure,
    }))


if __name__ == "__main__":
    main()
