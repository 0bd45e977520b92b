#pragma once

/* Decides whether an HTTP request may be upgraded to a Realtime WebSocket:
 * path, query and credentials, answered the way the real services answer.
 * Pure logic: the server feeds it the request's parts. */

#include <optional>
#include <string>

namespace voxbridge::sim {

struct UpgradeRequest {
  std::string path;
  std::string query;  /* raw query string, without '?' */
  std::optional<std::string> authorization;  /* Authorization header */
  std::optional<std::string> api_key;        /* api-key header (Azure) */
};

struct UpgradeVerdict {
  unsigned status = 0;   /* 0 = accept; else the HTTP status to answer */
  std::string body;      /* JSON error body when rejected */
  std::string model;     /* accepted: the model / deployment */
  bool azure = false;    /* accepted: came in on the Azure path */
};

constexpr const char *kOpenAiPath = "/v1/realtime";
constexpr const char *kAzurePath = "/openai/v1/realtime";

/* @expected_key: the configured key, or nullopt to accept any credentials. */
UpgradeVerdict check_upgrade_request (const UpgradeRequest &request,
    const std::optional<std::string> &expected_key);

}  // namespace voxbridge::sim
