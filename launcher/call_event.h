#pragma once
/* One event in the life of a call, as logged (call event log) and streamed
 * (GET /events): call started/answered/ended, transcripts of both sides,
 * the model's text, DTMF digits, errors. */

#include <glib.h>

#include <string>
#include <utility>
#include <vector>

namespace voxbridge::launcher {

enum class CallEventType {
  CallStarted,        /* fields: direction, from, to, route */
  CallAnswered,       /* fields: codec, ai_connect_ms (when an AI session was waited for) */
  CallEnded,          /* fields: reason, duration_s */
  CallerTranscript,   /* fields: text (what the caller said) */
  AiTranscript,       /* fields: text (what the model said) */
  AiText,             /* fields: text (text output of the model) */
  Dtmf,               /* fields: digit */
  SpeechStarted,      /* fields: mono_us (CLOCK_MONOTONIC when the AI's speech_started arrived) */
  BargeIn,            /* fields: item_id, audio_end_ms, counted_at (wire | realtimesrc), dropped_ms */
  Error,              /* fields: cause, message */
  /* after hang-up (call_recording.h): */
  RecordingReady,     /* fields: path, format, bytes, duration_s */
  TranscriptReady,    /* fields: path, lines, bytes */
  CallSummary,        /* fields: text */
  ToolCall,           /* fields: tool, tool_call_id, arguments (the model called a tool) */
  ToolResult,         /* fields: tool, tool_call_id, result (ok | error), output */
  /* transfer_call (call_transfer.h): */
  TransferStarted,    /* fields: target, reason */
  TransferProgress,   /* fields: stage, sip_status */
  TransferAccepted,   /* fields: method (refer | bridge), sip_status */
  TransferFailed,     /* fields: method, sip_status, reason */
  TransferBridged,    /* fields: target_call_id, caller_codec, target_codec */
  TransferEnded,      /* fields: ended_by, duration_s, packets_to_target, packets_to_caller */
};

struct CallEvent {
  CallEventType type = CallEventType::Error;
  std::string call_id;
  gint64 time_us = 0;      /* wall clock, g_get_real_time () */
  guint64 sequence = 0;    /* set by EventHub::publish, 0 before */
  std::vector<std::pair<std::string, std::string>> fields;

  /* An event stamped with the current time. */
  static CallEvent now (CallEventType type, std::string call_id,
      std::vector<std::pair<std::string, std::string>> fields = {});

  const char *field (const std::string & name) const;
};

/* "call.started", "call.answered", "call.ended", "transcript.caller",
 * "transcript.ai", "ai.text", "dtmf", "error", "transfer.started",
 * "transfer.progress", "transfer.accepted", "transfer.failed",
 * "transfer.bridged", "transfer.ended". */
const char *call_event_type_name (CallEventType type);

/* RFC 3339 UTC with milliseconds: "2025-03-01T12:00:00.250Z". */
std::string format_event_time (gint64 time_us);

/* A number for an event field, with @decimals digits after the point and
 * never a locale's decimal comma: "12.5". */
std::string format_event_number (double value, int decimals);

/* One line, no newline, for people:
 * 2025-03-01T12:00:00.250Z transcript.caller call=abc text="I need help" */
std::string format_call_event_text (const CallEvent & event);

/* One JSON object, no newline:
 * {"time":"...","event":"transcript.caller","call_id":"abc","text":"I need help"} */
std::string format_call_event_json (const CallEvent & event);

}  // namespace voxbridge::launcher
