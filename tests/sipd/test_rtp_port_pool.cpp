/* RTP port pool: even ports, exhaustion, release, ports held elsewhere. */

#include "rtp_port_pool.h"

#include <gtest/gtest.h>

#include <set>
#include <vector>

using namespace voxbridge::sipd;

namespace {

/* A base port with @count even ports free on loopback right now. */
guint16
free_range (unsigned count)
{
  for (guint16 base = 40000 + (g_random_int () % 2000) * 2; base < 60000;
      base += 2 * count) {
    RtpPortPool probe ("127.0.0.1", base, static_cast<guint16> (base + 2 * count - 1));
    std::vector<RtpPortLease> leases;
    for (unsigned i = 0; i < count; i++)
      if (auto l = probe.acquire ())
        leases.push_back (std::move (*l));
    if (leases.size () == count && leases.front ().port () == base)
      return base;
  }
  return 0;
}

TEST (RtpPortPool, HandsOutEvenPortsUntilExhausted)
{
  guint16 base = free_range (3);
  ASSERT_NE (base, 0);
  /* odd first port rounds up; the range holds base, base+2, base+4 */
  RtpPortPool pool ("127.0.0.1", static_cast<guint16> (base - 1),
      static_cast<guint16> (base + 5));
  EXPECT_EQ (pool.capacity (), 3u);

  std::vector<RtpPortLease> leases;
  std::set<guint16> ports;
  for (int i = 0; i < 3; i++) {
    std::string error;
    auto lease = pool.acquire (&error);
    ASSERT_TRUE (lease) << error;
    EXPECT_EQ (lease->port () % 2, 0);
    EXPECT_NE (lease->socket (), nullptr);
    ports.insert (lease->port ());
    leases.push_back (std::move (*lease));
  }
  EXPECT_EQ (ports, (std::set<guint16> {base, guint16 (base + 2), guint16 (base + 4)}));
  EXPECT_EQ (pool.in_use (), 3u);

  std::string error;
  EXPECT_FALSE (pool.acquire (&error));
  EXPECT_NE (error.find ("in use"), std::string::npos) << error;

  leases.erase (leases.begin () + 1);   /* destroying a lease releases it */
  EXPECT_EQ (pool.in_use (), 2u);
  auto again = pool.acquire ();
  ASSERT_TRUE (again);
  EXPECT_EQ (again->port (), base + 2);

  again->release ();
  again->release ();                    /* idempotent */
  EXPECT_EQ (pool.in_use (), 2u);
  leases.clear ();
  EXPECT_EQ (pool.in_use (), 0u);
}

TEST (RtpPortPool, MovedLeaseReleasesOnce)
{
  guint16 base = free_range (1);
  ASSERT_NE (base, 0);
  RtpPortPool pool ("127.0.0.1", base, base);
  {
    auto lease = pool.acquire ();
    ASSERT_TRUE (lease);
    RtpPortLease moved = std::move (*lease);
    EXPECT_FALSE (*lease);
    EXPECT_TRUE (moved);
    EXPECT_EQ (pool.in_use (), 1u);
  }
  EXPECT_EQ (pool.in_use (), 0u);
}

TEST (RtpPortPool, SkipsPortsBoundElsewhere)
{
  guint16 base = free_range (2);
  ASSERT_NE (base, 0);
  RtpPortPool other ("127.0.0.1", base, base);
  auto taken = other.acquire ();       /* someone else holds base */
  ASSERT_TRUE (taken);

  RtpPortPool pool ("127.0.0.1", base, static_cast<guint16> (base + 2));
  auto lease = pool.acquire ();
  ASSERT_TRUE (lease);
  EXPECT_EQ (lease->port (), base + 2);
  std::string error;
  EXPECT_FALSE (pool.acquire (&error));
  EXPECT_FALSE (error.empty ());
}

TEST (RtpPortPool, BadBindAddressOrEmptyRange)
{
  RtpPortPool bad ("not-an-address", 40000, 40010);
  std::string error;
  EXPECT_FALSE (bad.acquire (&error));
  EXPECT_NE (error.find ("bind address"), std::string::npos);

  RtpPortPool empty ("127.0.0.1", 40001, 40001);
  EXPECT_EQ (empty.capacity (), 0u);
  EXPECT_FALSE (empty.acquire ());
}

}  // namespace
