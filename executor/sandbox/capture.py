"""A raw run in its child: the program as `python3 prog.py` would run it, its end reported.

Stdio mode with a capture spec (zygote.py): the child writes the run's input files into its
working directory, runs the program once on its stdin, and ends as the interpreter would
(an uncaught exception prints its traceback to stderr and exits 1; `sys.exit(x)` exits with
x or prints it and exits 1). Then it writes one report frame on fd 4 for the zygote:
``{"c": claim, "f": {path: base64}}``: `claim` names a cause only this process can see
(``syntax``: the program does not compile; ``memory``: a MemoryError ended it), and `f` holds
the files the spec asked to fetch back, as found after the run (missing ones left out).

The report is a claim of the program's own process, like its exit status and output: a
program can write one itself, and gains nothing by it (a claim only turns a run into a
failure). Standard library only.
"""

import binascii
import os
import sys

from . import frames, runner
from .statuses import MEMORY

REPORT_FD = 4
FETCH_MAX = 8 << 20  # bytes of fetched files in one report (base64 adds a third)

_os_exit, _os_write, _os_open, _os_read, _os_close = os._exit, os.write, os.open, os.read, os.close
_makedirs, _dirname = os.makedirs, os.path.dirname
_b64decode, _b64encode = binascii.a2b_base64, binascii.b2a_base64
_write_frame = frames.write_frame
_describe, _exec = runner.describe, exec
_BaseException, _SystemExit, _MemoryError = BaseException, SystemExit, MemoryError
_with_traceback = BaseException.with_traceback
_isinstance, _type = isinstance, type
_O_READ = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC
_O_WRITE = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC


def run(program, spec, limits, prelude=None):
    """Run `program` ((code, None) or (None, (status, message)), runner.compile_program) as
    a script under the capture `spec` ({"files": {path: base64}, "fetch": [path]}), after the
    job's `prelude` (compiled, or None); exit."""
    claim, status, ns = None, 0, None
    try:
        _write_files(spec.get("files") or {})
    except _BaseException as exc:
        _err("cannot write the run's input files: %s\n" % _describe(exc))
        status = 1
    code, error = program
    if status:
        pass
    elif error is not None:
        claim, status = error[0], 1
        _err(error[1] + "\n")
    else:
        failure = None
        try:
            runner.frames_off_the_limit(1)  # as deep as `python3 prog.py` (998 at the default limit)
            ns = runner.script_namespace()
            if prelude is not None:  # trusted imports first, as runner.load runs them
                _exec(prelude, ns)
            _exec(code, ns)  # here, not in a helper: a traceback starts at the program's frame
        except _BaseException as exc:
            failure = exc
        runner.flush_as_the_script_ends()  # before the traceback, as the interpreter does
        if failure is None:
            pass
        elif issubclass(_type(failure), _SystemExit):
            status = runner.exit_status(failure)
        else:
            status = 1
            if issubclass(_type(failure), _MemoryError):
                claim = MEMORY
            _print_exception(failure)
        failure = None
    if not runner.end_as_interpreter(ns):
        status = runner.FLUSH_FAILED_EXIT
    try:
        cap = min(FETCH_MAX, int(limits["output_kb"]) * 1024)
        _write_frame(REPORT_FD, {"c": claim, "f": _fetch(spec.get("fetch") or [], cap)})
    except _BaseException:
        pass
    _os_exit(status & 0xFF)


def _err(text):
    try:
        _os_write(2, text.encode("utf-8", "replace"))
    except _BaseException:
        pass


def _print_exception(exc):
    """The traceback the interpreter prints, without this module's own frame."""
    tb = exc.__traceback__
    try:
        if tb is not None:  # the interpreter prints the exception's own traceback
            _with_traceback(exc, tb.tb_next)
        sys.excepthook(_type(exc), exc, tb.tb_next if tb is not None else None)
    except _BaseException:
        _err("Traceback (most recent call last):\n%s\n" % _describe(exc))


def _write_files(files):
    """Write the run's input files (paths checked on the trusted side: relative, no '..')."""
    for path, content in files.items():
        data = _b64decode(content)
        parent = _dirname(path)
        if parent:
            _makedirs(parent, exist_ok=True)
        fd = _os_open(path, _O_WRITE, 0o600)
        try:
            while data:
                data = data[_os_write(fd, data) :]
        finally:
            _os_close(fd)


def _fetch(paths, cap):
    """{path: base64 content} of the files asked for that exist and are readable, at most
    `cap` bytes in all (a file past what is left is left out)."""
    out, left = {}, cap
    for path in paths:
        try:
            fd = _os_open(path, _O_READ)
        except OSError:
            continue
        try:
            chunks, size = [], 0
            while size <= left:
                chunk = _os_read(fd, min(1 << 20, left + 1 - size))
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
        except OSError:
            continue
        finally:
            _os_close(fd)
        if size > left:
            continue
        left -= size
        out[path] = _b64encode(b"".join(chunks), newline=False).decode("ascii")
    return out
