#pragma once
/* A small Prometheus metrics registry: counters, gauges and histograms with
 * labels, rendered in the text exposition format (version 0.0.4).
 * Updating a metric is thread-safe (RTP counters move on streaming threads). */

#include <glib.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace voxbridge::launcher {

using LabelValues = std::vector<std::string>;

class MetricFamily {
 public:
  enum class Type { Counter, Gauge, Histogram };

  MetricFamily (std::string name, std::string help, Type type,
      std::vector<std::string> label_names);
  virtual ~MetricFamily () = default;

  const std::string & name () const { return name_; }
  Type type () const { return type_; }

  /* Appends the # HELP, # TYPE and sample lines of this family. */
  void render (std::string & out) const;

 protected:
  /* Label set {a="x",b="y"} for @values, with @extra appended (for "le"). */
  std::string label_set (const LabelValues & values, const std::string & extra = "") const;
  void check_arity (const LabelValues & values) const;
  virtual void render_samples (std::string & out) const = 0;

  const std::string name_;
  const std::string help_;
  const Type type_;
  const std::vector<std::string> label_names_;
  mutable std::mutex lock_;
};

class Counter : public MetricFamily {
 public:
  Counter (std::string name, std::string help, std::vector<std::string> label_names);
  /* @amount must not be negative. */
  void inc (const LabelValues & labels = {}, double amount = 1);
  double value (const LabelValues & labels = {}) const;

 private:
  void render_samples (std::string & out) const override;
  std::map<LabelValues, double> values_;
};

class Gauge : public MetricFamily {
 public:
  Gauge (std::string name, std::string help, std::vector<std::string> label_names);
  void set (double value, const LabelValues & labels = {});
  void add (double amount, const LabelValues & labels = {});
  double value (const LabelValues & labels = {}) const;

 private:
  void render_samples (std::string & out) const override;
  std::map<LabelValues, double> values_;
};

class Histogram : public MetricFamily {
 public:
  /* @bounds: upper bounds of the buckets, ascending; +Inf is implicit. */
  Histogram (std::string name, std::string help, std::vector<std::string> label_names,
      std::vector<double> bounds);
  void observe (double value, const LabelValues & labels = {});
  guint64 count (const LabelValues & labels = {}) const;

 private:
  struct Series {
    std::vector<guint64> buckets;   /* per bound, not cumulative */
    guint64 count = 0;
    double sum = 0;
  };
  void render_samples (std::string & out) const override;
  const std::vector<double> bounds_;
  std::map<LabelValues, Series> series_;
};

/* Owns the metric families; families live as long as the registry. Names
 * must be valid Prometheus names and unique; a programming error aborts. */
class MetricsRegistry {
 public:
  Counter & add_counter (const std::string & name, const std::string & help,
      std::vector<std::string> label_names = {});
  Gauge & add_gauge (const std::string & name, const std::string & help,
      std::vector<std::string> label_names = {});
  Histogram & add_histogram (const std::string & name, const std::string & help,
      std::vector<std::string> label_names, std::vector<double> bounds);

  /* The whole registry in text exposition format. */
  std::string render () const;

 private:
  void check_new_name (const std::string & name) const;
  mutable std::mutex lock_;
  std::vector<std::unique_ptr<MetricFamily>> families_;
};

/* Content-Type of render()'s output. */
extern const char *const PROMETHEUS_TEXT_CONTENT_TYPE;

/* Escaping rules of the text format, exposed for tests. */
std::string escape_label_value (const std::string & value);
std::string escape_help_text (const std::string & help);
/* Sample value: integers without a fraction, +Inf/-Inf/NaN spelled out. */
std::string format_sample_value (double value);

}  // namespace voxbridge::launcher
