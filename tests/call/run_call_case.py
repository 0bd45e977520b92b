#!/usr/bin/env python3
"""One voxbridge-call end-to-end case against a real sipp UAS on loopback.

Usage: run_call_case.py VOXBRIDGE_CALL CASE

The echo cases make a spoken question with espeak-ng, call a sipp UAS that
echoes our RTP (-rtp_echo), and check the exit status, the JSON summary and
the stereo recording: the left channel carries the question, the right
channel the echo of it, starting a little after the question does.
"""

import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import wave
from array import array

SCENARIOS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "scenarios")
QUESTION = "Hello, this is a test call. What is the weather like today?"


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_even_port_pair():
    """An even RTP port whose RTCP neighbour is free too (sipp binds both)."""
    for _ in range(100):
        port = free_port() & ~1
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as a, \
                    socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as b:
                a.bind(("127.0.0.1", port))
                b.bind(("127.0.0.1", port + 1))
                return port
        except OSError:
            continue
    raise RuntimeError("no free RTP port pair")


def sox_rms(path, channel):
    """RMS amplitude (0..1) of one channel, as sox's stat effect reports it."""
    out = subprocess.run(["sox", path, "-n", "remix", str(channel), "stat"],
                         capture_output=True, text=True, check=True).stderr
    return float(re.search(r"RMS\s+amplitude:\s+([0-9.]+)", out).group(1))


def onsets(path, window_ms=20, threshold=0.02):
    """First time (s) each channel's 20 ms RMS exceeds @threshold, or None."""
    with wave.open(path) as w:
        assert w.getnchannels() == 2, "recording is not stereo"
        assert w.getframerate() == 8000, "recording is not 8 kHz"
        assert w.getsampwidth() == 2, "recording is not 16-bit"
        samples = array("h", w.readframes(w.getnframes()))
    if sys.byteorder != "little":
        samples.byteswap()
    step = 8000 * window_ms // 1000
    result = []
    for channel in (0, 1):
        data = samples[channel::2]
        found = None
        for start in range(0, len(data) - step, step):
            window = data[start:start + step]
            rms = (sum(s * s for s in window) / step) ** 0.5 / 32768
            if rms > threshold:
                found = start / 8000
                break
        result.append(found)
    return result


def main():
    call_exe, case = sys.argv[1:3]
    work = tempfile.mkdtemp(prefix="voxbridge-call-")
    question = os.path.join(work, "question.wav")
    recording = os.path.join(work, "call.wav")
    subprocess.run(["espeak-ng", "-w", question, QUESTION], check=True)

    sipp_port = free_port()
    media_port = free_even_port_pair()
    rtp_min = 42000 + (sipp_port % 500) * 20
    sipp_args = ["-m", "1", "-i", "127.0.0.1", "-p", str(sipp_port),
                 "-mp", str(media_port), "-timeout", "40s", "-timeout_error",
                 "-trace_err", "-error_file", os.path.join(work, "sipp-errors.log")]
    call_args = [call_exe, "sip:ai@127.0.0.1:%d" % sipp_port,
                 "--play", question, "--record", recording, "--json",
                 "--rtp-min", str(rtp_min), "--rtp-max", str(rtp_min + 19),
                 "--header", "User-to-User: 48656c6c6f;encoding=hex",
                 "--max-seconds", "30"]
    expect_exit = 0
    if case == "echo-pcmu":
        sipp_args = ["-sn", "uas", "-rtp_echo"] + sipp_args
        call_args += ["--wait-silence-ms", "1500"]
    elif case == "echo-pcma":
        sipp_args = ["-sf", os.path.join(SCENARIOS, "uas_pcma.xml"),
                     "-rtp_echo"] + sipp_args
        call_args += ["--codec", "PCMA", "--wait-silence-ms", "1500"]
    elif case == "hangup-after":
        sipp_args = ["-sn", "uas", "-rtp_echo"] + sipp_args
        call_args += ["--hangup-after-ms", "1500"]
    elif case == "rejected":
        sipp_args = ["-sf", os.path.join(SCENARIOS, "uas_reject_486.xml")] + sipp_args
        expect_exit = 1
    elif case == "no-answer":
        sipp_args = ["-sf", os.path.join(SCENARIOS, "uas_ring_forever.xml")] + sipp_args
        call_args += ["--answer-timeout", "2"]
        expect_exit = 1
    elif case == "no-peer":
        sipp_args = None
        call_args += ["--answer-timeout", "2"]
        expect_exit = 1
    else:
        raise SystemExit("unknown case " + case)

    failures = []
    sipp = None
    if sipp_args is not None:
        sipp = subprocess.Popen(["sipp"] + sipp_args, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                text=True)
    print("call:", " ".join(call_args))
    try:
        call = subprocess.run(call_args, capture_output=True, text=True, timeout=60)
    finally:
        if sipp is not None:
            try:
                _, sipp_err = sipp.communicate(timeout=20)
            except subprocess.TimeoutExpired:
                sipp.kill()
                _, sipp_err = sipp.communicate()
    print(call.stderr)
    print(call.stdout)
    if call.returncode != expect_exit:
        failures.append("voxbridge-call exited %d, expected %d" %
                        (call.returncode, expect_exit))
    summary = {}
    try:
        summary = json.loads(call.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        failures.append("no JSON summary on stdout")

    if case in ("echo-pcmu", "echo-pcma", "hangup-after"):
        if sipp.returncode != 0:
            failures.append("sipp exited %d: %s" % (sipp.returncode, sipp_err))
        codec = "PCMA" if case == "echo-pcma" else "PCMU"
        for line in [r"\] dialing sip:ai@", r"\] answered after \d+ ms, codec " + codec,
                     r"\] hung up", r"\] recording .*call\.wav"]:
            if not re.search(line, call.stderr):
                failures.append("no event line " + line)
        if summary.get("result") != "completed":
            failures.append("result is %r" % summary.get("result"))
        if summary.get("codec") != codec:
            failures.append("codec is %r" % summary.get("codec"))
        if summary.get("ended_by") != "local":
            failures.append("ended_by is %r" % summary.get("ended_by"))
        if not 0 <= summary.get("setup_ms", -1) < 2000:
            failures.append("setup_ms is %r" % summary.get("setup_ms"))
        if summary.get("received_audio_s", 0) < 1.0:
            failures.append("received only %r s" % summary.get("received_audio_s"))
        if not os.path.exists(recording):
            failures.append("no recording")
        else:
            left, right = sox_rms(recording, 1), sox_rms(recording, 2)
            print("RMS amplitude: left %.4f right %.4f" % (left, right))
            if left < 0.01:
                failures.append("left channel (the question) is silent: %f" % left)
            if right < 0.005:
                failures.append("right channel (the echo) is silent: %f" % right)
            left_on, right_on = onsets(recording)
            print("speech starts: left %s s, right %s s" % (left_on, right_on))
            if left_on is None or right_on is None:
                failures.append("no speech onset on one channel")
            # sipp echoes at once: an echo that the caller's own graph delays
            # by less than one 20 ms window starts in the question's window.
            elif not 0.0 <= right_on - left_on < 0.5:
                failures.append("echo starts %.3f s after the question, expected "
                                "a little later" % (right_on - left_on))
        if case == "hangup-after":
            if not 1400 <= summary.get("duration_ms", 0) < 2500:
                failures.append("duration_ms is %r" % summary.get("duration_ms"))
        else:
            if "question sent" not in call.stderr:
                failures.append("no 'question sent' event")
            if "far end audio started" not in call.stderr:
                failures.append("no 'far end audio started' event")
            # The question plays out in full before the silence wait.
            if summary.get("duration_ms", 0) < summary.get("question_ms", 0) + 1400:
                failures.append("hung up before the question and the wait: %r" % summary)
    elif case == "rejected":
        if "call rejected: 486" not in call.stderr:
            failures.append("no 'call rejected: 486' message")
        if summary.get("result") != "failed" or summary.get("end_status") != 486:
            failures.append("summary %r" % summary)
    elif case == "no-answer":
        if sipp.returncode != 0:
            failures.append("sipp exited %d: %s" % (sipp.returncode, sipp_err))
        if "no answer within 2 s" not in call.stderr or "] ringing" not in call.stderr:
            failures.append("no 'ringing' and 'no answer within 2 s' messages")
        if summary.get("result") != "failed" or summary.get("end_status") != 487:
            failures.append("summary %r" % summary)
    elif case == "no-peer":
        if summary.get("result") != "failed":
            failures.append("summary %r" % summary)

    if failures:
        print("FAIL:\n  " + "\n  ".join(failures))
        sys.exit(1)
    print("PASS")


if __name__ == "__main__":
    main()
