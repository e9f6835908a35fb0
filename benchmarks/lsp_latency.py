"""How quickly ``torchlint server`` answers an editor, measured over stdio with a real LSP client.

    python benchmarks/lsp_latency.py [--lines 1000] [--runs 20]

It opens a generated file of about ``--lines`` lines (model classes, training
loops with unreduced losses, one TL001 at the end), waits for the first
diagnostics (the cold run: imports, the first parse), then ``--runs`` times:

* **change**: edits one line in the middle of the file (a learning rate, so
  the findings stay) and times from sending ``textDocument/didChange`` to the
  ``publishDiagnostics`` of that version (debounce included);
* **hover**: hovers on a tensor in the middle of the file and times the
  answer, right after that change's diagnostics arrived (``hover after
  change``) and again a moment later (``hover``).

The targets in issue 12: after the first run, 150 ms for a change and 50 ms
for a hover, on a 1,000-line file.  Prints a Markdown table of medians, 90th
percentiles and maxima.  Not a timed test: the numbers depend on the machine.
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

BLOCK = '''

class Net{i}(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(16, 32)
        self.fc2 = nn.Linear(32, 4)

    def forward(self, x):
        h = torch.relu(self.fc1(x))
        return self.fc2(h)


def train_{i}(steps=3):
    model = Net{i}()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    criterion = nn.MSELoss(reduction="none")
    x = torch.randn(8, 16)
    y = torch.randn(8, 4)
    for _ in range(steps):
        opt.zero_grad()
        out = model(x)
        loss = criterion(out, y)
        weighted = loss * torch.ones(8, 4)
        weighted.mean().backward()
        opt.step()
    return loss.detach()
'''
TAIL = "\n\nv = torch.ones(3, requires_grad=True)\nw = v * 2\nw.backward()\n"


def generate(lines: int) -> str:
    parts = ["import torch\nimport torch.nn as nn\n"]
    i = 0
    while sum(p.count("\n") for p in parts) + TAIL.count("\n") < lines:
        parts.append(BLOCK.format(i=i))
        i += 1
    return "".join(parts) + TAIL


def _stats(name: str, xs: list) -> str:
    xs = sorted(x * 1000 for x in xs)
    p90 = xs[min(len(xs) - 1, int(round(0.9 * (len(xs) - 1))))]
    return f"| {name:<18} | {len(xs):>4} | {statistics.median(xs):>8.1f} | {p90:>8.1f} | {xs[-1]:>8.1f} |"


async def measure(lines: int, runs: int) -> None:
    from lsprotocol import types as t
    from pygls.lsp.client import LanguageClient
    from pygls.uris import from_fs_path

    text = generate(lines)
    work = Path(tempfile.mkdtemp(prefix="torchlint-lsp-bench-"))
    path = work / "train.py"
    path.write_text(text)
    uri = from_fs_path(str(path))
    client = LanguageClient("lsp-latency", "0")
    arrived: dict = {}  # version -> (time, diagnostics)
    cond = asyncio.Condition()

    @client.feature(t.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    async def _diags(ls, params):
        async with cond:
            arrived[params.version] = (time.perf_counter(), params.diagnostics)
            cond.notify_all()

    async def diagnostics_of(version):
        async with cond:
            await asyncio.wait_for(cond.wait_for(lambda: version in arrived), 120)
            return arrived[version]

    await client.start_io(sys.executable, "-m", "torchlint", "server", cwd=str(work))
    await client.initialize_async(t.InitializeParams(capabilities=t.ClientCapabilities()))
    client.initialized(t.InitializedParams())
    t0 = time.perf_counter()
    client.text_document_did_open(t.DidOpenTextDocumentParams(t.TextDocumentItem(uri, "python", 1, text)))
    t_first, diags = await diagnostics_of(1)
    first = t_first - t0
    codes = sorted({d.code for d in diags})

    lines_of = text.splitlines()
    middle = len(lines_of) // 2
    edit_line = next(i for i in range(middle, len(lines_of)) if "lr=0.1" in lines_of[i])
    hover_line = next(i for i in range(middle, len(lines_of)) if "weighted.mean()" in lines_of[i])
    hover_col = lines_of[hover_line].index("weighted")
    col = lines_of[edit_line].index("lr=0.1") + len("lr=0.")

    async def hover():
        h0 = time.perf_counter()
        h = await client.text_document_hover_async(
            t.HoverParams(t.TextDocumentIdentifier(uri), t.Position(hover_line, hover_col)))
        assert h is not None and "shape" in h.contents.value, h
        return time.perf_counter() - h0

    changes, hovers_after, hovers = [], [], []
    for run in range(runs):
        version = run + 2
        digit = str(2 + run % 7)
        c0 = time.perf_counter()
        client.text_document_did_change(t.DidChangeTextDocumentParams(
            t.VersionedTextDocumentIdentifier(version, uri),
            [t.TextDocumentContentChangePartial(t.Range(t.Position(edit_line, col), t.Position(edit_line, col + 1)),
                                                digit)]))
        c1, _ = await diagnostics_of(version)
        changes.append(c1 - c0)
        hovers_after.append(await hover())
        await asyncio.sleep(0.2)
        hovers.append(await hover())
    await client.shutdown_async(None)
    client.exit(None)
    await asyncio.wait_for(client._server.wait(), 60)

    print(f"file: {len(lines_of)} lines, findings {codes}; first diagnostics after open: {first * 1000:.0f} ms")
    print()
    print("| what               | runs | median ms | p90 ms | max ms |")
    print("| ------------------ | ---: | --------: | -----: | -----: |")
    print(_stats("change", changes))
    print(_stats("hover after change", hovers_after))
    print(_stats("hover", hovers))


def in_process(lines: int, runs: int) -> None:
    """The same edits through the server's pipeline in this process: wall and CPU time of one analysis.

    When wall time is well above CPU time, the machine is busy with other work (2 cores, shared)."""
    from torchlint.server.pipeline import IncrementalParser, analyse
    from torchlint.workspace.config import build_settings

    text = generate(lines)
    settings = build_settings([tempfile.gettempdir()], isolated=True)
    parser = IncrementalParser()
    analyse(text, "train.py", settings, parser).query
    walls, cpus, index = [], [], []
    for run in range(runs):
        edited = text.replace("lr=0.1", f"lr=0.{2 + run % 7}", 1)
        w0, c0 = time.perf_counter(), time.process_time()
        result = analyse(edited, "train.py", settings, parser)
        w1, c1 = time.perf_counter(), time.process_time()
        result.query
        index.append(time.perf_counter() - w1)
        walls.append(w1 - w0)
        cpus.append(c1 - c0)
    print()
    print("In this process (the server's pipeline, no LSP):")
    print()
    print("| what               | runs | median ms | p90 ms | max ms |")
    print("| ------------------ | ---: | --------: | -----: | -----: |")
    print(_stats("analysis, wall", walls))
    print(_stats("analysis, CPU", cpus))
    print(_stats("hover index", index))


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args(argv)
    asyncio.run(measure(args.lines, args.runs))
    in_process(args.lines, args.runs)


if __name__ == "__main__":
    main()
