/* Test helper: a pipeline with a synchronous bus reader. */
#include "pipeline_runner.h"

namespace voxbridge::test {

PipelineRunner::PipelineRunner (const std::string & description)
{
  GError *err = nullptr;
  pipeline_ = gst_parse_launch (description.c_str (), &err);
  if (err) {
    errors_ = err->message;
    g_error_free (err);
  }
  if (pipeline_)
    bus_ = gst_element_get_bus (pipeline_);
}

PipelineRunner::~PipelineRunner ()
{
  if (pipeline_) {
    gst_element_set_state (pipeline_, GST_STATE_NULL);
    gst_object_unref (pipeline_);
  }
  if (bus_)
    gst_object_unref (bus_);
  for (GstStructure *s : elements_)
    gst_structure_free (s);
}

GstElement *
PipelineRunner::by_name (const char *name) const
{
  return gst_bin_get_by_name (GST_BIN (pipeline_), name);
}

bool
PipelineRunner::play ()
{
  return gst_element_set_state (pipeline_, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE;
}

bool
PipelineRunner::wait_for (const std::function<bool (GstMessage *)> & pred, GstClockTime timeout)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) (timeout / GST_USECOND);
  while (true) {
    gint64 left = deadline - g_get_monotonic_time ();
    if (left <= 0)
      return false;
    GstMessage *msg = gst_bus_timed_pop (bus_, left * GST_USECOND);
    if (!msg)
      return false;
    switch (GST_MESSAGE_TYPE (msg)) {
      case GST_MESSAGE_ELEMENT: {
        const GstStructure *s = gst_message_get_structure (msg);
        if (s) {
          elements_.push_back (gst_structure_copy (s));
          if (on_element)
            on_element (s);
        }
        break;
      }
      case GST_MESSAGE_ERROR: {
        GError *e = nullptr;
        gst_message_parse_error (msg, &e, nullptr);
        if (!errors_.empty ())
          errors_ += "\n";
        errors_ += e->message;
        g_error_free (e);
        break;
      }
      case GST_MESSAGE_EOS:
        eos_ = true;
        break;
      default:
        break;
    }
    bool done = pred (msg);
    gst_message_unref (msg);
    if (done)
      return true;
  }
}

GstStructure *
PipelineRunner::wait_element (const char *name, GstClockTime timeout)
{
  for (GstStructure *s : elements_)
    if (gst_structure_has_name (s, name))
      return s;
  GstStructure *found = nullptr;
  wait_for ([&] (GstMessage * m) {
        const GstStructure *s = gst_message_get_structure (m);
        if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_ELEMENT && s && gst_structure_has_name (s, name)) {
          found = elements_.back ();
          return true;
        }
        return false;
      }, timeout);
  return found;
}

bool
PipelineRunner::wait_eos (GstClockTime timeout)
{
  if (eos_)
    return true;
  return wait_for ([] (GstMessage * m) {
        return GST_MESSAGE_TYPE (m) == GST_MESSAGE_EOS || GST_MESSAGE_TYPE (m) == GST_MESSAGE_ERROR;
      }, timeout) && eos_;
}

std::string
PipelineRunner::wait_error (GstClockTime timeout)
{
  if (errors_.empty ())
    wait_for ([] (GstMessage * m) { return GST_MESSAGE_TYPE (m) == GST_MESSAGE_ERROR; }, timeout);
  return errors_;
}

int
PipelineRunner::count (const char *name) const
{
  int n = 0;
  for (GstStructure *s : elements_)
    n += gst_structure_has_name (s, name);
  return n;
}

}  // namespace voxbridge::test
