#!/usr/bin/env python3
"""Turns `gst-launch-1.0 -m` output into readable lines: the Realtime
session's element messages (transcripts, turns, responses) and errors."""
import re
import sys

MSG = re.compile(r'\(element\): (realtime-[a-z-]+), (.*);\s*$')
FIELD = re.compile(r'([a-z-]+)=\(([a-z0-9]+)\)("(?:[^"\\]|\\.)*"|[^,]*)')


def fields(text):
    out = {}
    for name, _type, value in FIELD.findall(text):
        if value.startswith('"'):
            value = value[1:-1]
        out[name] = re.sub(r'\\(.)', r'\1', value)
    return out


for line in sys.stdin:
    m = MSG.search(line)
    if not m:
        if 'ERROR' in line or 'WARNING' in line:
            print(line.rstrip())
        continue
    name, f = m.group(1), fields(m.group(2))
    final = f.get('final') == 'true'
    if name == 'realtime-session-ready':
        print(f"[session] ready ({f.get('model')}, {f.get('session-id')})")
    elif name == 'realtime-speech-started':
        print(f"[caller]  speaking (from {f.get('audio-start-ms')} ms)")
    elif name == 'realtime-speech-stopped':
        print(f"[caller]  stopped (at {f.get('audio-end-ms')} ms)")
    elif name == 'realtime-input-transcript' and final:
        print(f"[caller]  transcript: {f.get('text')}")
    elif name == 'realtime-response-started':
        print("[AI]      answering...")
    elif name in ('realtime-output-transcript', 'realtime-output-text') and final:
        print(f"[AI]      says: {f.get('text')}")
    elif name == 'realtime-response-done':
        print(f"[AI]      done ({f.get('status')}, {f.get('total-tokens')} tokens)")
    elif name == 'realtime-barge-in':
        print(f"[barge-in] caller interrupted at {f.get('audio-end-ms')} ms")
    elif name in ('realtime-error', 'realtime-session-lost'):
        print(f"[{name}] {f}")
    sys.stdout.flush()
