#include "call_report.h"

namespace voxbridge::call {

CallReport::CallReport (FILE *events)
    : events_ (events), start_us_ (g_get_monotonic_time ()),
      summary_ (json_object_new ())
{
}

CallReport::~CallReport ()
{
  json_object_unref (summary_);
}

void
CallReport::event (const std::string &text)
{
  const double seconds =
      static_cast<double> (g_get_monotonic_time () - start_us_) / G_USEC_PER_SEC;
  std::fprintf (events_, "[%7.3f] %s\n", seconds, text.c_str ());
  std::fflush (events_);
}

void
CallReport::set_string (const std::string &key, const std::string &value)
{
  json_object_set_string_member (summary_, key.c_str (), value.c_str ());
}

void
CallReport::set_int (const std::string &key, gint64 value)
{
  json_object_set_int_member (summary_, key.c_str (), value);
}

void
CallReport::set_double (const std::string &key, double value)
{
  json_object_set_double_member (summary_, key.c_str (), value);
}

void
CallReport::print_summary (bool json) const
{
  if (!json)
    return;
  JsonNode *root = json_node_new (JSON_NODE_OBJECT);
  json_node_set_object (root, summary_);
  gchar *text = json_to_string (root, FALSE);
  std::printf ("%s\n", text);
  std::fflush (stdout);
  g_free (text);
  json_node_unref (root);
}

}  // namespace voxbridge::call
