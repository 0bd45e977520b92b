#!/usr/bin/env python3
"""Smoke run of voxbridge-bench: 3 calls for 5 s in each mode against a real
launcher and the off-line Realtime server. Checks that every call completed,
that the JSON holds every figure, that audio was found in both directions
(echo modes) and that the callers interrupted the model (bargein); no timing
bounds (the machine is shared). Prints the table."""
import json
import os
import subprocess
import sys
import tempfile

bench = sys.argv[1]
FIGURES = ["cpu_percent_per_call", "rss_kib_per_call", "threads_per_call",
           "latency_to_ai_ms", "latency_to_caller_ms",
           "latency_to_caller_beyond_playout_ms", "round_trip_ms",
           "setup_answer_ms", "setup_first_ai_audio_ms", "launcher_rtp_in",
           "launcher_rtp_out", "launcher_rtp_lost", "launcher_rtp_late",
           "launcher_rtp_duplicates", "graph_audio_discarded_ms", "caller_rtp_sent",
           "caller_rtp_received", "caller_rtp_lost", "caller_rtp_late",
           "caller_rtp_duplicates", "calls_correlated"]

with tempfile.TemporaryDirectory() as tmp:
    out = os.path.join(tmp, "bench.json")
    md = os.path.join(tmp, "BENCHMARKS.md")
    proc = subprocess.run([bench, "--mode", "g711,pcm24k,bargein", "--calls", "3",
                           "--rate", "10", "--duration", "5", "--json", out, "--write-benchmarks-md", md,
                           "--work-dir", os.path.join(tmp, "work")],
                          capture_output=True, text=True, timeout=170)
    print(proc.stdout)
    if proc.returncode != 0:
        print(proc.stderr[-4000:], file=sys.stderr)
        sys.exit(f"voxbridge-bench exited {proc.returncode}")
    report = json.load(open(out))
    assert report["machine"]["cores"] >= 1, report["machine"]
    assert len(report["runs"]) == 3, report["runs"]
    barge_in = report["runs"].pop()
    assert barge_in["mode"] == "bargein" and barge_in["error"] == "", barge_in
    assert barge_in["calls_answered"] == 3 and barge_in["calls_failed"] == 0, barge_in
    cutoff = barge_in["barge_in_cutoff_ms"]
    assert cutoff["count"] > 0, ("no interruption measured", barge_in)
    assert cutoff["p50"] <= cutoff["p99"] <= cutoff["max"], cutoff
    for run in report["runs"]:
        name = f'{run["mode"]} x{run["calls"]}'
        assert run["error"] == "", (name, run["error"])
        missing = [f for f in FIGURES if f not in run]
        assert not missing, (name, missing)
        assert run["calls_answered"] == 3 and run["calls_failed"] == 0, name
        assert run["calls_correlated"] == 3, (name, run["notes"])
        for figure in ("latency_to_ai_ms", "latency_to_caller_ms",
                       "latency_to_caller_beyond_playout_ms", "round_trip_ms",
                       "setup_answer_ms", "setup_first_ai_audio_ms",
                       "setup_without_ai_connect_ms",
                       "setup_without_ai_connect_launcher_timed_ms"):
            assert run[figure]["count"] > 0, (name, figure)
            assert run[figure]["p50"] <= run[figure]["p99"] <= run[figure]["max"], (name, figure)
        # Every call's AI connect, timed by the launcher, comes off its setup.
        timed = run["setup_without_ai_connect_launcher_timed_ms"]
        assert timed["count"] == 3, (name, timed)
        assert timed["max"] <= run["setup_answer_ms"]["max"], (name, timed)
        # The same packets; the wait behind earlier audio only ever comes off.
        beyond, raw = run["latency_to_caller_beyond_playout_ms"], run["latency_to_caller_ms"]
        assert beyond["count"] == raw["count"], (name, beyond, raw)
        assert beyond["max"] <= raw["max"], (name, beyond, raw)
        # Every call streamed for the whole window and heard its echo.
        assert run["caller_rtp_sent"] >= 3 * 5 * 50, (name, run["caller_rtp_sent"])
        assert run["caller_rtp_received"] > 0 and run["launcher_rtp_in"] > 0, name
        assert run["cpu_percent_per_call"] > 0 and run["threads_per_call"] >= 0, name
        # The launcher's own latency histograms saw the same traffic.
        assert run["launcher_latency_to_ai_mean_ms"] > 0, name
        assert run["launcher_latency_to_caller_mean_ms"] > 0, name
    assert run["mode"] == "pcm24k"
    # Every call.ended line of the launcher's event log carries the media summary.
    work = os.path.join(tmp, "work")
    for mode in ("g711", "pcm24k"):
        ended = [json.loads(line) for line in open(os.path.join(work, f"events-{mode}-3.log"))
                 if '"call.ended"' in line]
        assert len(ended) == 3, (mode, len(ended))
        for event in ended:
            for field in ("packets_in", "packets_out", "rtp_lost", "rtp_late",
                          "latency_to_ai_p50_ms", "latency_to_ai_p99_ms",
                          "latency_to_caller_p50_ms", "latency_to_caller_p99_ms"):
                assert field in event, (mode, field, event)
            assert int(event["packets_in"]) > 0, event
    assert report["runs"][0]["latency_verified"], "G.711 chunks should match by content"
    text = open(md).read()
    for needle in ("## Machine", "## Results", "g711 x3", "pcm24k x3", "bargein x3",
                   "barge-in cut-off", "GStreamer"):
        assert needle in text, needle
print("bench smoke: OK")
