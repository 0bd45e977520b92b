/* Prometheus text exposition format:
 * https://prometheus.io/docs/instrumenting/exposition_formats/ */

#include "metrics_registry.h"

#include <glib.h>

#include <cmath>

namespace voxbridge::launcher {

const char *const PROMETHEUS_TEXT_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

namespace {

bool
is_metric_name (const std::string & name)
{
  if (name.empty () || !(g_ascii_isalpha (name[0]) || name[0] == '_' || name[0] == ':'))
    return false;
  for (char c : name) {
    if (!(g_ascii_isalnum (c) || c == '_' || c == ':'))
      return false;
  }
  return true;
}

bool
is_label_name (const std::string & name)
{
  if (name.empty () || !(g_ascii_isalpha (name[0]) || name[0] == '_')
      || name.rfind ("__", 0) == 0)
    return false;
  for (char c : name) {
    if (!(g_ascii_isalnum (c) || c == '_'))
      return false;
  }
  return true;
}

const char *
type_name (MetricFamily::Type type)
{
  switch (type) {
    case MetricFamily::Type::Counter:
      return "counter";
    case MetricFamily::Type::Gauge:
      return "gauge";
    case MetricFamily::Type::Histogram:
      return "histogram";
  }
  return "untyped";
}

}  // namespace

std::string
escape_label_value (const std::string & value)
{
  std::string out;
  for (char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string
escape_help_text (const std::string & help)
{
  std::string out;
  for (char c : help) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string
format_sample_value (double value)
{
  if (std::isnan (value))
    return "NaN";
  if (std::isinf (value))
    return value > 0 ? "+Inf" : "-Inf";
  if (value == std::floor (value) && std::fabs (value) < 1e15)
    return std::to_string ((long long) value);
  /* The shortest form that reads back as the same double: 0.1, not
   * 0.10000000000000001. */
  char buffer[G_ASCII_DTOSTR_BUF_SIZE];
  for (const char *format : {"%.15g", "%.16g", "%.17g"}) {
    g_ascii_formatd (buffer, sizeof buffer, format, value);
    if (g_ascii_strtod (buffer, nullptr) == value)
      break;
  }
  return buffer;
}

MetricFamily::MetricFamily (std::string name, std::string help, Type type,
    std::vector<std::string> label_names)
  : name_ (std::move (name)), help_ (std::move (help)), type_ (type),
    label_names_ (std::move (label_names))
{
  g_assert (is_metric_name (name_));
  for (const std::string & label : label_names_)
    g_assert (is_label_name (label) && !(type_ == Type::Histogram && label == "le"));
}

void
MetricFamily::check_arity (const LabelValues & values) const
{
  if (values.size () != label_names_.size ())
    g_error ("metric %s takes %zu label values, got %zu", name_.c_str (),
        label_names_.size (), values.size ());
}

std::string
MetricFamily::label_set (const LabelValues & values, const std::string & extra) const
{
  std::string out;
  for (size_t i = 0; i < label_names_.size (); i++) {
    out += out.empty () ? "{" : ",";
    out += label_names_[i] + "=\"" + escape_label_value (values[i]) + "\"";
  }
  if (!extra.empty ())
    out += (out.empty () ? "{" : ",") + extra;
  return out.empty () ? out : out + "}";
}

void
MetricFamily::render (std::string & out) const
{
  out += "# HELP " + name_ + " " + escape_help_text (help_) + "\n";
  out += "# TYPE " + name_ + " " + type_name (type_) + "\n";
  std::lock_guard<std::mutex> guard (lock_);
  render_samples (out);
}

Counter::Counter (std::string name, std::string help, std::vector<std::string> label_names)
  : MetricFamily (std::move (name), std::move (help), Type::Counter, std::move (label_names))
{
  g_assert (g_str_has_suffix (name_.c_str (), "_total"));
}

void
Counter::inc (const LabelValues & labels, double amount)
{
  check_arity (labels);
  g_return_if_fail (amount >= 0);
  std::lock_guard<std::mutex> guard (lock_);
  values_[labels] += amount;
}

double
Counter::value (const LabelValues & labels) const
{
  std::lock_guard<std::mutex> guard (lock_);
  auto it = values_.find (labels);
  return it == values_.end () ? 0 : it->second;
}

void
Counter::render_samples (std::string & out) const
{
  if (values_.empty () && label_names_.empty ())
    out += name_ + " 0\n";
  for (const auto & [labels, value] : values_)
    out += name_ + label_set (labels) + " " + format_sample_value (value) + "\n";
}

Gauge::Gauge (std::string name, std::string help, std::vector<std::string> label_names)
  : MetricFamily (std::move (name), std::move (help), Type::Gauge, std::move (label_names))
{
}

void
Gauge::set (double value, const LabelValues & labels)
{
  check_arity (labels);
  std::lock_guard<std::mutex> guard (lock_);
  values_[labels] = value;
}

void
Gauge::add (double amount, const LabelValues & labels)
{
  check_arity (labels);
  std::lock_guard<std::mutex> guard (lock_);
  values_[labels] += amount;
}

double
Gauge::value (const LabelValues & labels) const
{
  std::lock_guard<std::mutex> guard (lock_);
  auto it = values_.find (labels);
  return it == values_.end () ? 0 : it->second;
}

void
Gauge::render_samples (std::string & out) const
{
  if (values_.empty () && label_names_.empty ())
    out += name_ + " 0\n";
  for (const auto & [labels, value] : values_)
    out += name_ + label_set (labels) + " " + format_sample_value (value) + "\n";
}

Histogram::Histogram (std::string name, std::string help,
    std::vector<std::string> label_names, std::vector<double> bounds)
  : MetricFamily (std::move (name), std::move (help), Type::Histogram, std::move (label_names)),
    bounds_ (std::move (bounds))
{
  for (size_t i = 1; i < bounds_.size (); i++)
    g_assert (bounds_[i - 1] < bounds_[i]);
}

void
Histogram::observe (double value, const LabelValues & labels)
{
  check_arity (labels);
  std::lock_guard<std::mutex> guard (lock_);
  Series & series = series_[labels];
  series.buckets.resize (bounds_.size ());
  for (size_t i = 0; i < bounds_.size (); i++) {
    if (value <= bounds_[i]) {
      series.buckets[i]++;
      break;
    }
  }
  series.count++;
  series.sum += value;
}

guint64
Histogram::count (const LabelValues & labels) const
{
  std::lock_guard<std::mutex> guard (lock_);
  auto it = series_.find (labels);
  return it == series_.end () ? 0 : it->second.count;
}

void
Histogram::render_samples (std::string & out) const
{
  auto render_series = [&] (const LabelValues & labels, const Series & series) {
    guint64 cumulative = 0;
    for (size_t i = 0; i < bounds_.size (); i++) {
      cumulative += i < series.buckets.size () ? series.buckets[i] : 0;
      out += name_ + "_bucket" + label_set (labels,
          "le=\"" + format_sample_value (bounds_[i]) + "\"") + " "
          + std::to_string (cumulative) + "\n";
    }
    out += name_ + "_bucket" + label_set (labels, "le=\"+Inf\"") + " "
        + std::to_string (series.count) + "\n";
    out += name_ + "_sum" + label_set (labels) + " " + format_sample_value (series.sum) + "\n";
    out += name_ + "_count" + label_set (labels) + " " + std::to_string (series.count) + "\n";
  };
  if (series_.empty () && label_names_.empty ())
    render_series ({}, Series ());
  for (const auto & [labels, series] : series_)
    render_series (labels, series);
}

void
MetricsRegistry::check_new_name (const std::string & name) const
{
  for (const auto & family : families_) {
    if (family->name () == name)
      g_error ("metric %s registered twice", name.c_str ());
  }
}

Counter &
MetricsRegistry::add_counter (const std::string & name, const std::string & help,
    std::vector<std::string> label_names)
{
  std::lock_guard<std::mutex> guard (lock_);
  check_new_name (name);
  auto counter = std::make_unique<Counter> (name, help, std::move (label_names));
  Counter & ref = *counter;
  families_.push_back (std::move (counter));
  return ref;
}

Gauge &
MetricsRegistry::add_gauge (const std::string & name, const std::string & help,
    std::vector<std::string> label_names)
{
  std::lock_guard<std::mutex> guard (lock_);
  check_new_name (name);
  auto gauge = std::make_unique<Gauge> (name, help, std::move (label_names));
  Gauge & ref = *gauge;
  families_.push_back (std::move (gauge));
  return ref;
}

Histogram &
MetricsRegistry::add_histogram (const std::string & name, const std::string & help,
    std::vector<std::string> label_names, std::vector<double> bounds)
{
  std::lock_guard<std::mutex> guard (lock_);
  check_new_name (name);
  auto histogram = std::make_unique<Histogram> (name, help, std::move (label_names),
      std::move (bounds));
  Histogram & ref = *histogram;
  families_.push_back (std::move (histogram));
  return ref;
}

std::string
MetricsRegistry::render () const
{
  std::lock_guard<std::mutex> guard (lock_);
  std::string out;
  for (const auto & family : families_)
    family->render (out);
  return out;
}

}  // namespace voxbridge::launcher
