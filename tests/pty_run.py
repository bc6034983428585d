#!/usr/bin/env python3
"""Runs a command with its stdout and stderr on a pseudo-terminal, as a user
at a terminal would see it, and writes everything it wrote, raw (escape
sequences included), to our stdout; exits with its exit status (128 + N for
a signal). Used by the CLI tests to check what is drawn on a terminal.

    pty_run.py [--rows R] [--cols C] [--render] [--stderr-only-tty] [--answer TEXT]...
               [--answer-at MARKER TEXT]... -- COMMAND ARGS...

--render: instead of the raw bytes, print the screen the bytes leave behind
(cursor up, carriage return and clear-line interpreted), as a person sees
it at the end. --stderr-only-tty: stdout goes to a pipe (and is printed
after the terminal's bytes, behind a line '--- stdout'), only stderr is on
the terminal. --answer TEXT: stdin is the terminal too, and TEXT is typed
(with Enter) when a prompt for a configuration input ("${input:") shows;
one --answer per prompt, in order. --answer-at MARKER TEXT: the same, typed
when MARKER shows (after where the previous answer was typed); the two
kinds are taken in the order given. Without either stdin is /dev/null.
"""

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios


def render(data):
    """The lines left on a screen by `data`: text, CR, LF, ESC[nA, ESC[2K."""
    lines = [""]
    row = 0
    col = 0
    text = data.decode("utf-8", "replace")
    i = 0
    while i < len(text):
        match = re.match(r"\x1b\[(\d*)([A-Za-z])", text[i:])
        if match:
            count = int(match.group(1) or "1")
            if match.group(2) == "A":
                row = max(0, row - count)
            elif match.group(2) == "K":
                lines[row] = lines[row][:col] if match.group(1) in ("", "0") else ""
            i += len(match.group(0))
            continue
        char = text[i]
        i += 1
        if char == "\r":
            col = 0
        elif char == "\n":
            row += 1
            col = 0
            if row == len(lines):
                lines.append("")
        else:
            line = lines[row].ljust(col)
            lines[row] = line[:col] + char + line[col + 1:]
            col += 1
    while lines and lines[-1] == "":
        lines.pop()
    return "\n".join(lines) + "\n"


def main():
    args = sys.argv[1:]
    rows, cols, do_render, stderr_only, answers = 40, 100, False, False, []
    while args and args[0] != "--":
        if args[0] == "--rows":
            rows = int(args[1])
            args = args[2:]
        elif args[0] == "--cols":
            cols = int(args[1])
            args = args[2:]
        elif args[0] == "--render":
            do_render = True
            args = args[1:]
        elif args[0] == "--stderr-only-tty":
            stderr_only = True
            args = args[1:]
        elif args[0] == "--answer":
            answers.append((b"${input:", args[1].encode() + b"\n"))
            args = args[2:]
        elif args[0] == "--answer-at":
            answers.append((args[1].encode(), args[2].encode() + b"\n"))
            args = args[3:]
        else:
            sys.exit("pty_run.py: unknown option " + args[0])
    command = args[1:]
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    stdout = subprocess.PIPE if stderr_only else slave
    stdin = slave if answers else subprocess.DEVNULL
    child = subprocess.Popen(command, stdin=stdin, stdout=stdout, stderr=slave, close_fds=True)
    os.close(slave)
    data = b""
    piped = b""
    answered = 0
    seen_to = 0  # where the marker of the last answer was found
    readers = [master] + ([child.stdout.fileno()] if stderr_only else [])
    while readers:
        ready, _, _ = select.select(readers, [], [])
        for fd in ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # EIO: the terminal's last writer has gone
                chunk = b""
            if not chunk:
                readers.remove(fd)
            elif fd == master:
                data += chunk
                while answered < len(answers):
                    marker, text = answers[answered]
                    found = data.find(marker, seen_to)
                    if found < 0:
                        break
                    os.write(master, text)
                    seen_to = found + len(marker)
                    answered += 1
            else:
                piped += chunk
    status = child.wait()
    out = render(data).encode() if do_render else data
    if stderr_only:
        out += b"--- stdout\n" + piped
    sys.stdout.buffer.write(out)
    sys.stdout.flush()
    sys.exit(status if status >= 0 else 128 - status)


if __name__ == "__main__":
    main()
