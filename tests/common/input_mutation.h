#pragma once
/* Deterministic mutants of a valid input, for the "bad input never crashes"
 * tests of every parser of external input (SIP, SDP, RTP, JSON, config).
 *
 * Every mutant comes from a fixed-seed generator, so a failure names an input
 * that reproduces on every run. The kinds of damage are those real peers and
 * typos produce: truncation at every length, flipped / inserted / deleted
 * bytes, NUL bytes, duplicated and removed lines and fields, numbers made huge
 * or negative, a 1 MiB value, invalid UTF-8. */

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace voxbridge::test {

struct Mutant {
  std::string kind;   /* what was done, for the failure message */
  std::string text;
};

/* A short, printable picture of @text for failure messages. */
inline std::string
describe_input (const std::string &text, size_t max = 160)
{
  std::string out;
  for (unsigned char c : text.substr (0, max)) {
    if (c == '\n')
      out += "\\n";
    else if (c == '\r')
      out += "\\r";
    else if (c < 0x20 || c >= 0x7f) {
      static const char hex[] = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 0xf];
    } else
      out += static_cast<char> (c);
  }
  if (text.size () > max)
    out += "...(" + std::to_string (text.size ()) + " bytes)";
  return out;
}

class InputMutator {
 public:
  /* @seed fixes every choice; @random_rounds is how many random edits of
   * each kind are made. */
  InputMutator (uint32_t seed, size_t random_rounds = 200)
    : rng_ (seed), rounds_ (random_rounds) {}

  /* All mutants of @valid. Callers feed each to the parser under test. */
  std::vector<Mutant> mutate (const std::string &valid)
  {
    std::vector<Mutant> out;
    truncations (valid, out);
    byte_edits (valid, out);
    line_edits (valid, out);
    field_edits (valid, out);
    number_edits (valid, out);
    long_values (valid, out);
    invalid_utf8 (valid, out);
    return out;
  }

  /* Strings that are a hostile value anywhere a value goes. */
  static std::vector<std::string> hostile_values ()
  {
    return {
      "", "0", "-1", "-2147483649", "2147483648", "4294967296",
      "18446744073709551616", "99999999999999999999999999999999",
      "1e309", "-0", "0x10", "NaN", std::string ("a\0b", 3), "\xff\xfe",
      "\xc3\x28", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\"", "\\", "${", "}",
      "\r\n", std::string (1 << 20, 'A'),
    };
  }

 private:
  size_t pick (size_t n) { return n == 0 ? 0 : std::uniform_int_distribution<size_t> (0, n - 1) (rng_); }

  void truncations (const std::string &valid, std::vector<Mutant> &out)
  {
    /* Every length for inputs of normal size; evenly spaced cuts above. */
    const size_t step = std::max<size_t> (1, valid.size () / 2000);
    for (size_t len = 0; len < valid.size (); len += step)
      out.push_back ({"truncated to " + std::to_string (len), valid.substr (0, len)});
  }

  void byte_edits (const std::string &valid, std::vector<Mutant> &out)
  {
    if (valid.empty ())
      return;
    for (size_t i = 0; i < rounds_; i++) {
      std::string flipped = valid;
      const size_t at = pick (flipped.size ());
      flipped[at] = static_cast<char> (flipped[at] ^ (1u << pick (8)));
      out.push_back ({"bit flip at " + std::to_string (at), flipped});

      std::string inserted = valid;
      const size_t ins = pick (inserted.size () + 1);
      inserted.insert (ins, 1, static_cast<char> (pick (256)));
      out.push_back ({"byte inserted at " + std::to_string (ins), inserted});

      std::string removed = valid;
      const size_t del = pick (removed.size ());
      removed.erase (del, 1 + pick (8));
      out.push_back ({"bytes deleted at " + std::to_string (del), removed});

      std::string nul = valid;
      const size_t nat = pick (nul.size () + 1);
      nul.insert (nat, 1, '\0');
      out.push_back ({"NUL inserted at " + std::to_string (nat), nul});
    }
  }

  static std::vector<std::string> split (const std::string &text, char sep)
  {
    std::vector<std::string> parts;
    size_t start = 0;
    for (;;) {
      size_t end = text.find (sep, start);
      parts.push_back (text.substr (start, end == std::string::npos ? end : end - start + 1));
      if (end == std::string::npos)
        break;
      start = end + 1;
    }
    return parts;
  }

  static std::string join (const std::vector<std::string> &parts)
  {
    std::string out;
    for (const std::string &p : parts)
      out += p;
    return out;
  }

  /* Each line removed, each line doubled, lines swapped. */
  void line_edits (const std::string &valid, std::vector<Mutant> &out)
  {
    const std::vector<std::string> lines = split (valid, '\n');
    if (lines.size () < 2)
      return;
    for (size_t i = 0; i < lines.size (); i++) {
      std::vector<std::string> without = lines;
      without.erase (without.begin () + i);
      out.push_back ({"line " + std::to_string (i) + " removed", join (without)});
      std::vector<std::string> doubled = lines;
      doubled.insert (doubled.begin () + i, lines[i]);
      out.push_back ({"line " + std::to_string (i) + " doubled", join (doubled)});
    }
    for (size_t i = 0; i < rounds_ / 4; i++) {
      std::vector<std::string> swapped = lines;
      std::swap (swapped[pick (swapped.size ())], swapped[pick (swapped.size ())]);
      out.push_back ({"lines swapped", join (swapped)});
    }
  }

  /* Fields (split on the separators of SIP, SDP, JSON and INI) removed and
   * doubled. */
  void field_edits (const std::string &valid, std::vector<Mutant> &out)
  {
    for (char sep : {',', ';', ' ', ':', '=', '/'}) {
      const std::vector<std::string> fields = split (valid, sep);
      if (fields.size () < 2)
        continue;
      const size_t n = std::min (fields.size (), rounds_ / 4 + 1);
      for (size_t k = 0; k < n; k++) {
        const size_t i = fields.size () <= n ? k : pick (fields.size ());
        std::vector<std::string> without = fields;
        without.erase (without.begin () + i);
        out.push_back ({std::string ("field removed (sep '") + sep + "')", join (without)});
        std::vector<std::string> doubled = fields;
        doubled.insert (doubled.begin () + i, fields[i]);
        out.push_back ({std::string ("field doubled (sep '") + sep + "')", join (doubled)});
      }
    }
  }

  /* Every run of digits replaced by each hostile number. */
  void number_edits (const std::string &valid, std::vector<Mutant> &out)
  {
    static const char *const numbers[] = {"0", "-1", "-2147483649", "2147483648",
        "4294967296", "18446744073709551616", "99999999999999999999999999999999",
        "1e309", "-0"};
    size_t runs = 0;
    for (size_t i = 0; i < valid.size () && runs < 64;) {
      if (valid[i] < '0' || valid[i] > '9') {
        i++;
        continue;
      }
      size_t end = i;
      while (end < valid.size () && valid[end] >= '0' && valid[end] <= '9')
        end++;
      for (const char *n : numbers) {
        std::string edited = valid;
        edited.replace (i, end - i, n);
        out.push_back ({"number at " + std::to_string (i) + " -> " + n, edited});
      }
      runs++;
      i = end;
    }
  }

  /* A 1 MiB run inserted at a few places (each mutant is parsed, so few). */
  void long_values (const std::string &valid, std::vector<Mutant> &out)
  {
    const std::string big (1 << 20, 'A');
    for (size_t i = 0; i < 4; i++) {
      std::string edited = valid;
      const size_t at = i == 0 ? valid.size () : pick (valid.size () + 1);
      edited.insert (at, big);
      out.push_back ({"1 MiB inserted at " + std::to_string (at), edited});
    }
    /* The same 1 MiB as a whole line of its own. */
    out.push_back ({"1 MiB line appended", valid + "\n" + big + "\n"});
  }

  void invalid_utf8 (const std::string &valid, std::vector<Mutant> &out)
  {
    static const char *const bad[] = {"\xff", "\xc3\x28", "\xe2\x28\xa1",
        "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xc0\xaf", "\x80"};
    for (size_t i = 0; i < rounds_ / 4; i++) {
      for (const char *b : bad) {
        std::string edited = valid;
        const size_t at = pick (valid.size () + 1);
        edited.insert (at, b);
        out.push_back ({"invalid UTF-8 at " + std::to_string (at), edited});
      }
    }
  }

  std::mt19937 rng_;
  size_t rounds_;
};

}  // namespace voxbridge::test
