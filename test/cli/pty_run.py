"""Runs a command in a pseudo-terminal, as if a person typed at it: each time the output since the last answer
contains PROMPT, the next answer is typed (followed by Enter). Prints everything the terminal showed, then exits
with the command's exit status. Usage: pty_run.py PROMPT_REGEX ANSWERS_JSON -- COMMAND ARGS...
"""
import json
import os
import pty
import re
import select
import sys
import time

prompt = re.compile(sys.argv[1].encode())
answers = [a.encode() for a in json.loads(sys.argv[2])]
command = sys.argv[sys.argv.index("--") + 1 :]

pid, fd = pty.fork()
if pid == 0:
    os.execvp(command[0], command)

seen = b""
pending = b""
deadline = time.time() + 30
while time.time() < deadline:
    ready, _, _ = select.select([fd], [], [], 0.1)
    if ready:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
        pending += chunk
        if answers and prompt.search(pending):
            pending = b""
            # Give the program time to switch the terminal to no-echo after printing the prompt (loaded CI).
            time.sleep(0.3)
            os.write(fd, answers.pop(0) + b"\r")
_, status = os.waitpid(pid, 0)
sys.stdout.buffer.write(seen)
sys.exit(os.waitstatus_to_exitcode(status))
