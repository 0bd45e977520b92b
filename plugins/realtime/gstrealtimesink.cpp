/**
 * SECTION:element-realtimesink
 * @title: realtimesink
 *
 * Sends audio into an OpenAI / Azure OpenAI Realtime session (GA protocol,
 * WebSocket). The session is shared by name with a realtimesrc, which plays
 * the model's answer. G.711 input is passed to the model untouched
 * (audio/pcmu, audio/pcma); 24 kHz PCM is sent as audio/pcm.
 *
 * All session messages are posted on the bus by this element, as element
 * messages named realtime-session-ready, realtime-session-lost,
 * realtime-speech-started, realtime-speech-stopped, realtime-barge-in,
 * realtime-truncated, realtime-response-started, realtime-response-done,
 * realtime-input-transcript, realtime-output-transcript,
 * realtime-output-text, realtime-function-call, realtime-rate-limits and
 * realtime-error; each carries a "session" field.
 *
 * Fed by a live source (siprtpsrc, udpsrc, webrtcbin ...), the sink sends
 * each buffer as it arrives instead of waiting for its time plus the
 * pipeline latency (GstBaseSink sync): the source already delivers in real
 * time and the model has no playout clock to meet, so waiting would only
 * delay the caller's audio by the whole latency (80 ms behind siprtpsrc's
 * default jitter buffer). A file source stays paced; setting "sync"
 * explicitly overrides either choice.
 *
 * ## Example launch line (against the off-line server)
 * |[
 * voxbridge-realtime-sim --port 8765 &
 * gst-launch-1.0 -e filesrc location=question.wav ! wavparse ! audioconvert ! \
 *   audioresample ! audio/x-raw,rate=24000,channels=1 ! \
 *   realtimesink session=demo url="ws://127.0.0.1:8765/v1/realtime?model=gpt-realtime" \
 *   realtimesrc session=demo num-responses=1 ! wavenc ! filesink location=answer.wav
 * ]|
 * Azure: url="wss://RES.openai.azure.com/openai/v1/realtime?model=DEPLOYMENT"
 * api-key-env=AZURE_OPENAI_API_KEY. OpenAI:
 * url="wss://api.openai.com/v1/realtime?model=gpt-realtime" api-key-env=OPENAI_API_KEY.
 */
#include "gstrealtimesink.h"

#include <atomic>
#include <mutex>
#include <string>

#include "realtime_enums.h"
#include "realtime_session.h"

GST_DEBUG_CATEGORY_STATIC (gst_realtime_sink_debug);
#define GST_CAT_DEFAULT gst_realtime_sink_debug

using namespace voxbridge::realtime;

#define DEFAULT_SESSION "default"
#define DEFAULT_URL ""
#define DEFAULT_AUTH 0
#define DEFAULT_TURN_DETECTION 0
#define DEFAULT_VAD_THRESHOLD 0.5
#define DEFAULT_VAD_PREFIX_PADDING_MS 300
#define DEFAULT_VAD_SILENCE_DURATION_MS 500
#define DEFAULT_VAD_EAGERNESS "auto"
#define DEFAULT_CREATE_RESPONSE TRUE
#define DEFAULT_INTERRUPT_RESPONSE TRUE
#define DEFAULT_OUTPUT_MODALITY 0
#define DEFAULT_NOISE_REDUCTION 0
#define DEFAULT_CONNECT_TIMEOUT_MS 10000
#define DEFAULT_RECONNECT_ATTEMPTS 3
#define DEFAULT_BARGE_IN TRUE
#define DEFAULT_MAX_PENDING_MS 5000

struct Settings {
  std::string session = DEFAULT_SESSION;
  SessionSettings s;
};

struct State {
  std::shared_ptr<Session> session;
  AudioFormat format = AudioFormat::kPcm24k;
  guint bytes_per_ms = 48;
};

struct GstRealtimeSinkPrivate {
  std::mutex lock;
  Settings settings;
  State state;
  /* "sync" set by the user; else it follows whether the input is live. */
  std::atomic<bool> sync_chosen {false};
  std::atomic<bool> liveness_checked {false};
};

struct _GstRealtimeSink {
  GstBaseSink parent;
  GstRealtimeSinkPrivate *priv;
};

enum {
  PROP_0,
  PROP_SESSION,
  PROP_URL,
  PROP_API_KEY,
  PROP_API_KEY_ENV,
  PROP_AUTH,
  PROP_CA_FILE,
  PROP_INSTRUCTIONS,
  PROP_VOICE,
  PROP_TURN_DETECTION,
  PROP_VAD_THRESHOLD,
  PROP_VAD_PREFIX_PADDING_MS,
  PROP_VAD_SILENCE_DURATION_MS,
  PROP_VAD_EAGERNESS,
  PROP_CREATE_RESPONSE,
  PROP_INTERRUPT_RESPONSE,
  PROP_TRANSCRIPTION_MODEL,
  PROP_TRANSCRIPTION_LANGUAGE,
  PROP_NOISE_REDUCTION,
  PROP_OUTPUT_MODALITY,
  PROP_TOOLS,
  PROP_CONNECT_TIMEOUT,
  PROP_RECONNECT_ATTEMPTS,
  PROP_BARGE_IN,
  PROP_MAX_PENDING_MS,
};

enum {
  SIGNAL_SEND_FUNCTION_OUTPUT,
  SIGNAL_SEND_TEXT,
  SIGNAL_CREATE_RESPONSE,
  SIGNAL_REQUEST_TEXT_RESPONSE,
  LAST_SIGNAL
};
static guint signals[LAST_SIGNAL];

#define SINK_CAPS \
  "audio/x-raw, format = (string) S16LE, rate = (int) 24000, channels = (int) 1, " \
  "layout = (string) interleaved; " \
  "audio/x-mulaw, rate = (int) 8000, channels = (int) 1; " \
  "audio/x-alaw, rate = (int) 8000, channels = (int) 1"

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS (SINK_CAPS));

#define gst_realtime_sink_parent_class parent_class
G_DEFINE_TYPE (GstRealtimeSink, gst_realtime_sink, GST_TYPE_BASE_SINK);
GST_ELEMENT_REGISTER_DEFINE (realtimesink, "realtimesink", GST_RANK_NONE, GST_TYPE_REALTIME_SINK);

static void
gst_realtime_sink_set_property (GObject * object, guint prop_id, const GValue * value,
    GParamSpec * pspec)
{
  GstRealtimeSink *self = GST_REALTIME_SINK (object);
  std::lock_guard<std::mutex> guard (self->priv->lock);
  Settings & st = self->priv->settings;
  SessionOptions & o = st.s.options;
  auto str = [value] { const char *v = g_value_get_string (value); return std::string (v ? v : ""); };
  switch (prop_id) {
    case PROP_SESSION: st.session = str (); if (st.session.empty ()) st.session = DEFAULT_SESSION; break;
    case PROP_URL: st.s.url = str (); break;
    case PROP_API_KEY: st.s.api_key = str (); break;
    case PROP_API_KEY_ENV: st.s.api_key_env = str (); break;
    case PROP_AUTH: st.s.auth = (AuthType) g_value_get_enum (value); break;
    case PROP_CA_FILE: st.s.ca_file = str (); break;
    case PROP_INSTRUCTIONS: o.instructions = str (); break;
    case PROP_VOICE: o.voice = str (); break;
    case PROP_TURN_DETECTION: o.turn_detection.type = (TurnDetectionType) g_value_get_enum (value); break;
    case PROP_VAD_THRESHOLD: o.turn_detection.threshold = g_value_get_double (value); break;
    case PROP_VAD_PREFIX_PADDING_MS: o.turn_detection.prefix_padding_ms = g_value_get_uint (value); break;
    case PROP_VAD_SILENCE_DURATION_MS: o.turn_detection.silence_duration_ms = g_value_get_uint (value); break;
    case PROP_VAD_EAGERNESS: o.turn_detection.eagerness = str (); break;
    case PROP_CREATE_RESPONSE: o.turn_detection.create_response = g_value_get_boolean (value); break;
    case PROP_INTERRUPT_RESPONSE: o.turn_detection.interrupt_response = g_value_get_boolean (value); break;
    case PROP_TRANSCRIPTION_MODEL: o.transcription_model = str (); break;
    case PROP_TRANSCRIPTION_LANGUAGE: o.transcription_language = str (); break;
    case PROP_NOISE_REDUCTION: o.noise_reduction = (NoiseReduction) g_value_get_enum (value); break;
    case PROP_OUTPUT_MODALITY: o.output_audio = g_value_get_enum (value) == 0; break;
    case PROP_TOOLS: o.tools_json = str (); break;
    case PROP_CONNECT_TIMEOUT: st.s.connect_timeout_ms = g_value_get_uint (value); break;
    case PROP_RECONNECT_ATTEMPTS: st.s.reconnect_attempts = g_value_get_uint (value); break;
    case PROP_BARGE_IN: st.s.barge_in = g_value_get_boolean (value); break;
    case PROP_MAX_PENDING_MS: st.s.max_pending_ms = g_value_get_uint (value); break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_realtime_sink_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstRealtimeSink *self = GST_REALTIME_SINK (object);
  std::lock_guard<std::mutex> guard (self->priv->lock);
  const Settings & st = self->priv->settings;
  const SessionOptions & o = st.s.options;
  switch (prop_id) {
    case PROP_SESSION: g_value_set_string (value, st.session.c_str ()); break;
    case PROP_URL: g_value_set_string (value, st.s.url.c_str ()); break;
    case PROP_API_KEY_ENV: g_value_set_string (value, st.s.api_key_env.c_str ()); break;
    case PROP_AUTH: g_value_set_enum (value, (gint) st.s.auth); break;
    case PROP_CA_FILE: g_value_set_string (value, st.s.ca_file.c_str ()); break;
    case PROP_INSTRUCTIONS: g_value_set_string (value, o.instructions.c_str ()); break;
    case PROP_VOICE: g_value_set_string (value, o.voice.c_str ()); break;
    case PROP_TURN_DETECTION: g_value_set_enum (value, (gint) o.turn_detection.type); break;
    case PROP_VAD_THRESHOLD: g_value_set_double (value, o.turn_detection.threshold); break;
    case PROP_VAD_PREFIX_PADDING_MS: g_value_set_uint (value, o.turn_detection.prefix_padding_ms); break;
    case PROP_VAD_SILENCE_DURATION_MS: g_value_set_uint (value, o.turn_detection.silence_duration_ms); break;
    case PROP_VAD_EAGERNESS: g_value_set_string (value, o.turn_detection.eagerness.c_str ()); break;
    case PROP_CREATE_RESPONSE: g_value_set_boolean (value, o.turn_detection.create_response); break;
    case PROP_INTERRUPT_RESPONSE: g_value_set_boolean (value, o.turn_detection.interrupt_response); break;
    case PROP_TRANSCRIPTION_MODEL: g_value_set_string (value, o.transcription_model.c_str ()); break;
    case PROP_TRANSCRIPTION_LANGUAGE: g_value_set_string (value, o.transcription_language.c_str ()); break;
    case PROP_NOISE_REDUCTION: g_value_set_enum (value, (gint) o.noise_reduction); break;
    case PROP_OUTPUT_MODALITY: g_value_set_enum (value, o.output_audio ? 0 : 1); break;
    case PROP_TOOLS: g_value_set_string (value, o.tools_json.c_str ()); break;
    case PROP_CONNECT_TIMEOUT: g_value_set_uint (value, st.s.connect_timeout_ms); break;
    case PROP_RECONNECT_ATTEMPTS: g_value_set_uint (value, st.s.reconnect_attempts); break;
    case PROP_BARGE_IN: g_value_set_boolean (value, st.s.barge_in); break;
    case PROP_MAX_PENDING_MS: g_value_set_uint (value, st.s.max_pending_ms); break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static gboolean
gst_realtime_sink_start (GstBaseSink * sink)
{
  GstRealtimeSink *self = GST_REALTIME_SINK (sink);
  std::string name;
  SessionSettings settings;
  {
    std::lock_guard<std::mutex> guard (self->priv->lock);
    name = self->priv->settings.session;
    settings = self->priv->settings.s;
  }
  auto session = Session::attach (name);
  std::string error;
  if (!session->configure (GST_ELEMENT (self), settings, &error)) {
    Session::detach (session);
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("Invalid Realtime session settings: %s",
            error.c_str ()), (NULL));
    return FALSE;
  }
  session->connect ();
  std::lock_guard<std::mutex> guard (self->priv->lock);
  self->priv->state.session = session;
  return TRUE;
}

static gboolean
gst_realtime_sink_stop (GstBaseSink * sink)
{
  GstRealtimeSink *self = GST_REALTIME_SINK (sink);
  std::shared_ptr<Session> session;
  {
    std::lock_guard<std::mutex> guard (self->priv->lock);
    session.swap (self->priv->state.session);
  }
  if (session) {
    session->release_owner (GST_ELEMENT (self));
    Session::detach (session);
  }
  return TRUE;
}

static gboolean
gst_realtime_sink_set_caps (GstBaseSink * sink, GstCaps * caps)
{
  GstRealtimeSink *self = GST_REALTIME_SINK (sink);
  AudioFormat format =
      audio_format_from_media_type (gst_structure_get_name (gst_caps_get_structure (caps, 0)));
  std::shared_ptr<Session> session;
  {
    std::lock_guard<std::mutex> guard (self->priv->lock);
    self->priv->state.format = format;
    self->priv->state.bytes_per_ms = audio_format_bytes_per_ms (format);
    session = self->priv->state.session;
  }
  GST_INFO_OBJECT (self, "input format %s", audio_format_type (format));
  if (session)
    session->set_input_format (format);
  return TRUE;
}

static GstFlowReturn
gst_realtime_sink_render (GstBaseSink * sink, GstBuffer * buffer)
{
  GstRealtimeSink *self = GST_REALTIME_SINK (sink);
  std::shared_ptr<Session> session;
  guint bytes_per_ms;
  {
    std::lock_guard<std::mutex> guard (self->priv->lock);
    session = self->priv->state.session;
    bytes_per_ms = self->priv->state.bytes_per_ms;
  }
  if (!session)
    return GST_FLOW_FLUSHING;
  if (session->failed ())
    return GST_FLOW_ERROR;   /* the session already posted why */
  GstMapInfo map;
  if (!gst_buffer_map (buffer, &map, GST_MAP_READ)) {
    GST_ELEMENT_ERROR (self, RESOURCE, READ, ("Could not map an input buffer"), (NULL));
    return GST_FLOW_ERROR;
  }
  if (map.size > 0)
    session->send_audio (encode_input_audio_append (map.data, map.size), map.size / bytes_per_ms);
  gst_buffer_unmap (buffer, &map);
  return GST_FLOW_OK;
}

/* Live input is sent on arrival (see the section doc); asked once, when the
 * caps arrive, unless the user chose "sync". */
static void
gst_realtime_sink_follow_liveness (GstRealtimeSink * self)
{
  if (self->priv->sync_chosen || self->priv->liveness_checked.exchange (true))
    return;
  GstQuery *query = gst_query_new_latency ();
  gboolean live = FALSE;
  if (gst_pad_peer_query (GST_BASE_SINK_PAD (self), query))
    gst_query_parse_latency (query, &live, nullptr, nullptr);
  gst_query_unref (query);
  if (live && !self->priv->sync_chosen) {
    GST_DEBUG_OBJECT (self, "live input: sending buffers as they arrive");
    gst_base_sink_set_sync (GST_BASE_SINK (self), FALSE);
  }
}

static void
gst_realtime_sink_sync_notified (GObject * object, GParamSpec * pspec, gpointer user_data)
{
  GST_REALTIME_SINK (object)->priv->sync_chosen = true;
}

static gboolean
gst_realtime_sink_event (GstBaseSink * sink, GstEvent * event)
{
  GstRealtimeSink *self = GST_REALTIME_SINK (sink);
  if (GST_EVENT_TYPE (event) == GST_EVENT_CAPS)
    gst_realtime_sink_follow_liveness (self);
  if (GST_EVENT_TYPE (event) == GST_EVENT_EOS) {
    std::shared_ptr<Session> session;
    {
      std::lock_guard<std::mutex> guard (self->priv->lock);
      session = self->priv->state.session;
    }
    if (session)
      session->end_of_input ();
  }
  return GST_BASE_SINK_CLASS (parent_class)->event (sink, event);
}

static std::shared_ptr<Session>
current_session (GstRealtimeSink * self)
{
  std::lock_guard<std::mutex> guard (self->priv->lock);
  return self->priv->state.session;
}

static gboolean
gst_realtime_sink_send_function_output (GstRealtimeSink * self, const gchar * call_id,
    const gchar * output)
{
  auto session = current_session (self);
  if (!session || !call_id || !output)
    return FALSE;
  session->send_function_output (call_id, output);
  return TRUE;
}

static gboolean
gst_realtime_sink_send_text (GstRealtimeSink * self, const gchar * text)
{
  auto session = current_session (self);
  if (!session || !text)
    return FALSE;
  session->send_text (text);
  return TRUE;
}

static gboolean
gst_realtime_sink_create_response (GstRealtimeSink * self)
{
  auto session = current_session (self);
  if (!session)
    return FALSE;
  session->create_response ();
  return TRUE;
}

static gboolean
gst_realtime_sink_request_text_response (GstRealtimeSink * self, const gchar * instructions,
    const gchar * tag)
{
  auto session = current_session (self);
  if (!session || !instructions || !tag || !*tag || session->failed ())
    return FALSE;
  session->request_text_response (instructions, tag);
  return TRUE;
}

static void
gst_realtime_sink_finalize (GObject * object)
{
  GstRealtimeSink *self = GST_REALTIME_SINK (object);
  delete self->priv;
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_realtime_sink_class_init (GstRealtimeSinkClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSinkClass *basesink_class = GST_BASE_SINK_CLASS (klass);
  const auto rw = (GParamFlags) (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
      | GST_PARAM_MUTABLE_READY);

  gobject_class->set_property = gst_realtime_sink_set_property;
  gobject_class->get_property = gst_realtime_sink_get_property;
  gobject_class->finalize = gst_realtime_sink_finalize;

  g_object_class_install_property (gobject_class, PROP_SESSION,
      g_param_spec_string ("session", "Session", "Name of the Realtime session, shared with "
          "the realtimesrc of the same name", DEFAULT_SESSION, rw));
  g_object_class_install_property (gobject_class, PROP_URL,
      g_param_spec_string ("url", "URL", "Realtime WebSocket URL: wss://api.openai.com/v1/"
          "realtime?model=gpt-realtime or wss://RES.openai.azure.com/openai/v1/realtime?"
          "model=DEPLOYMENT (no api-version)", DEFAULT_URL, rw));
  g_object_class_install_property (gobject_class, PROP_API_KEY,
      g_param_spec_string ("api-key", "API key", "The key or bearer token (write-only, never "
          "logged); prefer api-key-env", NULL,
          (GParamFlags) (G_PARAM_WRITABLE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY)));
  g_object_class_install_property (gobject_class, PROP_API_KEY_ENV,
      g_param_spec_string ("api-key-env", "API key variable", "Name of the environment "
          "variable holding the key (used when api-key is not set)", NULL, rw));
  g_object_class_install_property (gobject_class, PROP_AUTH,
      g_param_spec_enum ("auth", "Authentication", "How the key is sent",
          voxbridge_realtime_auth_get_type (), DEFAULT_AUTH, rw));
  g_object_class_install_property (gobject_class, PROP_CA_FILE,
      g_param_spec_string ("ca-file", "CA file", "PEM file of CA certificates to verify the "
          "server with, instead of the system store (e.g. a local server's own CA)", NULL, rw));
  g_object_class_install_property (gobject_class, PROP_INSTRUCTIONS,
      g_param_spec_string ("instructions", "Instructions", "System instructions for the model",
          NULL, rw));
  g_object_class_install_property (gobject_class, PROP_VOICE,
      g_param_spec_string ("voice", "Voice", "Output voice (e.g. alloy, marin, cedar); empty: "
          "the server's default", NULL, rw));
  g_object_class_install_property (gobject_class, PROP_TURN_DETECTION,
      g_param_spec_enum ("turn-detection", "Turn detection", "How the end of the caller's "
          "turn is found", voxbridge_realtime_turn_detection_get_type (),
          DEFAULT_TURN_DETECTION, rw));
  g_object_class_install_property (gobject_class, PROP_VAD_THRESHOLD,
      g_param_spec_double ("vad-threshold", "VAD threshold", "server-vad activation threshold "
          "(higher: louder speech needed)", 0.0, 1.0, DEFAULT_VAD_THRESHOLD, rw));
  g_object_class_install_property (gobject_class, PROP_VAD_PREFIX_PADDING_MS,
      g_param_spec_uint ("vad-prefix-padding-ms", "VAD prefix padding", "server-vad: audio "
          "kept before detected speech (ms)", 0, 10000, DEFAULT_VAD_PREFIX_PADDING_MS, rw));
  g_object_class_install_property (gobject_class, PROP_VAD_SILENCE_DURATION_MS,
      g_param_spec_uint ("vad-silence-duration-ms", "VAD silence duration", "server-vad: "
          "silence that ends a turn (ms)", 0, 10000, DEFAULT_VAD_SILENCE_DURATION_MS, rw));
  g_object_class_install_property (gobject_class, PROP_VAD_EAGERNESS,
      g_param_spec_string ("vad-eagerness", "Semantic VAD eagerness", "semantic-vad: low, "
          "medium, high or auto", DEFAULT_VAD_EAGERNESS, rw));
  g_object_class_install_property (gobject_class, PROP_CREATE_RESPONSE,
      g_param_spec_boolean ("create-response", "Create response", "The server answers "
          "automatically at the end of each turn", DEFAULT_CREATE_RESPONSE, rw));
  g_object_class_install_property (gobject_class, PROP_INTERRUPT_RESPONSE,
      g_param_spec_boolean ("interrupt-response", "Interrupt response", "The server stops its "
          "answer when the caller starts speaking", DEFAULT_INTERRUPT_RESPONSE, rw));
  g_object_class_install_property (gobject_class, PROP_TRANSCRIPTION_MODEL,
      g_param_spec_string ("transcription-model", "Transcription model", "Model that "
          "transcribes the caller (e.g. gpt-4o-transcribe, whisper-1); empty: off", NULL, rw));
  g_object_class_install_property (gobject_class, PROP_TRANSCRIPTION_LANGUAGE,
      g_param_spec_string ("transcription-language", "Transcription language", "ISO-639-1 "
          "language hint for the caller transcript", NULL, rw));
  g_object_class_install_property (gobject_class, PROP_NOISE_REDUCTION,
      g_param_spec_enum ("noise-reduction", "Noise reduction", "Input noise reduction",
          voxbridge_realtime_noise_reduction_get_type (), DEFAULT_NOISE_REDUCTION, rw));
  g_object_class_install_property (gobject_class, PROP_OUTPUT_MODALITY,
      g_param_spec_enum ("output-modality", "Output modality", "audio: spoken answers (with "
          "transcript); text: text only (listen-only assist legs)",
          voxbridge_realtime_output_modality_get_type (), DEFAULT_OUTPUT_MODALITY, rw));
  g_object_class_install_property (gobject_class, PROP_TOOLS,
      g_param_spec_string ("tools", "Tools", "JSON array of function tools the model may call "
          "(answer realtime-function-call messages with the send-function-output signal)",
          NULL, rw));
  g_object_class_install_property (gobject_class, PROP_CONNECT_TIMEOUT,
      g_param_spec_uint ("connect-timeout", "Connect timeout", "Time allowed to open the "
          "session (ms, 0 = no limit)", 0, G_MAXUINT, DEFAULT_CONNECT_TIMEOUT_MS, rw));
  g_object_class_install_property (gobject_class, PROP_RECONNECT_ATTEMPTS,
      g_param_spec_uint ("reconnect-attempts", "Reconnect attempts", "How often a session "
          "that drops mid-call is reopened before the element errors out (0 = never)",
          0, 100, DEFAULT_RECONNECT_ATTEMPTS, rw));
  g_object_class_install_property (gobject_class, PROP_BARGE_IN,
      g_param_spec_boolean ("barge-in", "Barge-in", "When the caller starts speaking, drop the "
          "queued answer and cancel/truncate it", DEFAULT_BARGE_IN, rw));
  g_object_class_install_property (gobject_class, PROP_MAX_PENDING_MS,
      g_param_spec_uint ("max-pending-ms", "Max pending audio", "Caller audio kept while the "
          "session is (re)connecting (ms)", 0, 600000, DEFAULT_MAX_PENDING_MS, rw));

  /**
   * GstRealtimeSink::send-function-output:
   * Returns a function call's result to the model (conversation.item.create
   * function_call_output + response.create).
   */
  signals[SIGNAL_SEND_FUNCTION_OUTPUT] = g_signal_new_class_handler ("send-function-output",
      G_TYPE_FROM_CLASS (klass), (GSignalFlags) (G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION),
      G_CALLBACK (gst_realtime_sink_send_function_output), NULL, NULL, NULL,
      G_TYPE_BOOLEAN, 2, G_TYPE_STRING, G_TYPE_STRING);
  /**
   * GstRealtimeSink::send-text:
   * Adds a user text message to the conversation and asks for a response.
   */
  signals[SIGNAL_SEND_TEXT] = g_signal_new_class_handler ("send-text",
      G_TYPE_FROM_CLASS (klass), (GSignalFlags) (G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION),
      G_CALLBACK (gst_realtime_sink_send_text), NULL, NULL, NULL,
      G_TYPE_BOOLEAN, 1, G_TYPE_STRING);
  /**
   * GstRealtimeSink::create-response:
   * Asks the model to speak now (e.g. a greeting at answer).
   */
  signals[SIGNAL_CREATE_RESPONSE] = g_signal_new_class_handler ("create-response",
      G_TYPE_FROM_CLASS (klass), (GSignalFlags) (G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION),
      G_CALLBACK (gst_realtime_sink_create_response), NULL, NULL, NULL, G_TYPE_BOOLEAN, 0);

  /**
   * GstRealtimeSink::request-text-response:
   * @instructions: what the model is asked to write (e.g. "Summarise this call")
   * @tag: non-empty; comes back as the "tag" of realtime-response-started
   *
   * Asks for a text-only response outside the conversation (response.create
   * with conversation "none"): the conversation is its context but it is not
   * added to it. Its text arrives as realtime-output-text messages with the
   * response-id of the tagged realtime-response-started.
   */
  signals[SIGNAL_REQUEST_TEXT_RESPONSE] = g_signal_new_class_handler (
      "request-text-response", G_TYPE_FROM_CLASS (klass),
      (GSignalFlags) (G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION),
      G_CALLBACK (gst_realtime_sink_request_text_response), NULL, NULL, NULL,
      G_TYPE_BOOLEAN, 2, G_TYPE_STRING, G_TYPE_STRING);

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_set_static_metadata (element_class, "Realtime AI session sink",
      "Sink/Network/Audio", "Streams audio into an OpenAI / Azure OpenAI Realtime session",
      "voxbridge");

  basesink_class->start = GST_DEBUG_FUNCPTR (gst_realtime_sink_start);
  basesink_class->stop = GST_DEBUG_FUNCPTR (gst_realtime_sink_stop);
  basesink_class->set_caps = GST_DEBUG_FUNCPTR (gst_realtime_sink_set_caps);
  basesink_class->render = GST_DEBUG_FUNCPTR (gst_realtime_sink_render);
  basesink_class->event = GST_DEBUG_FUNCPTR (gst_realtime_sink_event);

  gst_type_mark_as_plugin_api (voxbridge_realtime_auth_get_type (), (GstPluginAPIFlags) 0);
  gst_type_mark_as_plugin_api (voxbridge_realtime_turn_detection_get_type (), (GstPluginAPIFlags) 0);
  gst_type_mark_as_plugin_api (voxbridge_realtime_output_modality_get_type (), (GstPluginAPIFlags) 0);
  gst_type_mark_as_plugin_api (voxbridge_realtime_noise_reduction_get_type (), (GstPluginAPIFlags) 0);

  GST_DEBUG_CATEGORY_INIT (gst_realtime_sink_debug, "realtimesink", 0, "Realtime session sink");
}

static void
gst_realtime_sink_init (GstRealtimeSink * self)
{
  self->priv = new GstRealtimeSinkPrivate ();
  /* gst_base_sink_set_sync () does not notify: only the user's choice does. */
  g_signal_connect (self, "notify::sync", G_CALLBACK (gst_realtime_sink_sync_notified), nullptr);
}
