/* Call variables from a SIP request: see call_variables.h. */

#include "call_variables.h"

#include "uui.h"

#include <sofia-sip/sip.h>
#include <sofia-sip/su_alloc.h>
#include <sofia-sip/url.h>

#include <glib.h>

namespace voxbridge::sipd {

namespace {

std::string
url_text (const url_t *url)
{
  if (url == nullptr)
    return {};
  su_home_t *home = static_cast<su_home_t *> (su_home_new (sizeof (su_home_t)));
  char *text = url_as_string (home, url);
  std::string result = text != nullptr ? text : "";
  su_home_unref (home);
  return result;
}

void
set_address (Variables &vars, const char *prefix, const sip_addr_t *addr)
{
  if (addr == nullptr)
    return;
  const std::string p (prefix);
  vars[p + ".uri"] = url_text (addr->a_url);
  vars[p + ".user"] = addr->a_url->url_user != nullptr ?
      addr->a_url->url_user : "";
  if (addr->a_display != nullptr && addr->a_display[0] != '\0') {
    std::string display = addr->a_display;
    if (display.size () >= 2 && display.front () == '"' && display.back () == '"')
      display = display.substr (1, display.size () - 2);
    vars[p + ".display"] = display;
  }
}

}  // namespace

Variables
variables_from_request (const sip_t *sip)
{
  Variables vars;
  if (sip == nullptr)
    return vars;

  set_address (vars, "from", sip->sip_from);
  set_address (vars, "to", sip->sip_to);
  if (sip->sip_request != nullptr) {
    const url_t *ruri = sip->sip_request->rq_url;
    vars["request.uri"] = url_text (ruri);
    vars["request.user"] = ruri->url_user != nullptr ? ruri->url_user : "";
  }
  if (sip->sip_call_id != nullptr && sip->sip_call_id->i_id != nullptr)
    vars["call.sip_id"] = sip->sip_call_id->i_id;

  for (const sip_unknown_t *un = sip->sip_unknown; un != nullptr;
      un = un->un_next) {
    if (un->un_name == nullptr)
      continue;
    const std::string value = un->un_value != nullptr ? un->un_value : "";
    if (g_ascii_strcasecmp (un->un_name, "User-to-User") == 0) {
      if (vars.count ("uui.raw") != 0)
        continue;  /* RFC 7433 allows several; the first one is Connect's */
      UserToUser uui = decode_user_to_user (value);
      vars["uui.raw"] = uui.raw;
      if (uui.text)
        vars["uui"] = *uui.text;
      else
        g_message ("sipd: User-to-User '%s' not decoded: %s",
            uui.raw.c_str (), uui.error.c_str ());
    } else if (g_ascii_strncasecmp (un->un_name, "X-", 2) == 0) {
      std::string &slot = vars["header." + std::string (un->un_name)];
      slot += (slot.empty () ? "" : ",") + value;
    }
  }
  return vars;
}

}  // namespace voxbridge::sipd
