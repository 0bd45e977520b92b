#pragma once
/* Runs a parsed pipeline in the test thread and collects its bus messages,
 * so integration tests can wait for a named element message or an error. */

#include <gst/gst.h>

#include <functional>
#include <string>
#include <vector>

namespace voxbridge::test {

class PipelineRunner {
 public:
  explicit PipelineRunner (const std::string & description);
  ~PipelineRunner ();

  bool ok () const { return pipeline_ != nullptr; }
  GstElement *pipeline () const { return pipeline_; }
  GstElement *by_name (const char *name) const;
  bool play ();

  /* Pops bus messages until @pred accepts one (returns true) or @timeout
   * passes. Every message is recorded; @on_element sees element messages. */
  bool wait_for (const std::function<bool (GstMessage *)> & pred, GstClockTime timeout);
  /* Waits for the element message named @name; returns its structure copy or nullptr. */
  GstStructure *wait_element (const char *name, GstClockTime timeout);
  bool wait_eos (GstClockTime timeout);
  /* The first error's text, waiting up to @timeout for one. */
  std::string wait_error (GstClockTime timeout);

  std::function<void (const GstStructure *)> on_element;
  const std::vector<GstStructure *> & element_messages () const { return elements_; }
  int count (const char *name) const;
  std::string errors () const { return errors_; }

 private:
  GstElement *pipeline_ = nullptr;
  GstBus *bus_ = nullptr;
  std::vector<GstStructure *> elements_;
  std::string errors_;
  bool eos_ = false;
};

}  // namespace voxbridge::test
