// ContAuth's tenant background off the request path: stale backgrounds are served while the
// worker rebuilds, a tenant without one is scored genuine-only, rebuilds are deduplicated and
// bounded, failures keep the previous background, and shutdown with a rebuild in flight.
// A gate in front of the store's ListEnrolledProfiles holds a rebuild for as long as a test
// wants, so "did not wait" is shown by returning while the gate is closed, not by timing.
#include <memory>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/testing/status_matchers.h"
#include "services/contauth/contauth.h"
#include "services/contauth/contauth_test_util.h"
#include "services/contauth/in_memory_contauth_store.h"

namespace shieldx::contauth {
namespace {

using ::shieldx::testing::StatusIs;

// Waits for a condition that another thread makes true; generous for slow CI machines.
constexpr absl::Duration kWaitLimit = absl::Seconds(60);

// Delegates to an in-memory store; ListEnrolledProfiles (the first step of every background
// build) waits while the gate is closed and can be made to fail.
class GatedStore final : public ContAuthStore {
 public:
  void Close() {
    absl::MutexLock l(&mu_);
    open_ = false;
  }
  void Open() {
    absl::MutexLock l(&mu_);
    open_ = true;
  }
  void SetListFailure(absl::Status s) {
    absl::MutexLock l(&mu_);
    list_failure_ = std::move(s);
  }
  int list_calls() const {
    absl::MutexLock l(&mu_);
    return list_calls_;
  }
  // True once `n` ListEnrolledProfiles calls have arrived (blocked or not) within kWaitLimit.
  bool AwaitListCalls(int n) const {
    absl::MutexLock l(&mu_);
    auto arrived = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return list_calls_ >= n; };
    return mu_.AwaitWithTimeout(absl::Condition(&arrived), kWaitLimit);
  }

  absl::StatusOr<std::vector<ProfileRow>> ListEnrolledProfiles(const std::string& tenant,
                                                               std::size_t limit) override {
    {
      absl::MutexLock l(&mu_);
      ++list_calls_;
      // Bounded, so that a regression that waits for the build on the request path fails
      // the test instead of hanging it.
      if (!mu_.AwaitWithTimeout(absl::Condition(&open_), kWaitLimit)) {
        return absl::DeadlineExceededError("gate held for the whole wait limit");
      }
      if (!list_failure_.ok()) return list_failure_;
    }
    return inner_.ListEnrolledProfiles(tenant, limit);
  }

  absl::StatusOr<std::optional<Policy>> GetPolicy(const std::string& tenant) override {
    return inner_.GetPolicy(tenant);
  }
  absl::StatusOr<Policy> PutPolicy(const std::string& tenant, const Policy& policy,
                                   int64_t expected_version) override {
    return inner_.PutPolicy(tenant, policy, expected_version);
  }
  absl::Status UpdateUser(const std::string& tenant, const std::string& user,
                          const std::string& session, UpdateFn fn) override {
    return inner_.UpdateUser(tenant, user, session, fn);
  }
  absl::StatusOr<ProfileLookup> GetProfile(const std::string& tenant, const std::string& user,
                                           int64_t known_version) override {
    return inner_.GetProfile(tenant, user, known_version);
  }
  absl::StatusOr<std::optional<SessionRow>> GetSession(const std::string& tenant,
                                                       const std::string& session) override {
    return inner_.GetSession(tenant, session);
  }
  absl::Status InsertDecision(const Decision& decision) override {
    return inner_.InsertDecision(decision);
  }
  absl::StatusOr<std::optional<Decision>> LatestDecision(const std::string& tenant,
                                                         const std::string& session,
                                                         absl::Time now) override {
    return inner_.LatestDecision(tenant, session, now);
  }
  absl::StatusOr<std::optional<Decision>> GetDecision(const std::string& tenant,
                                                      const std::string& decision_id) override {
    return inner_.GetDecision(tenant, decision_id);
  }
  absl::StatusOr<std::vector<Decision>> ListUserDecisions(const std::string& tenant,
                                                          const std::string& user,
                                                          std::size_t limit) override {
    return inner_.ListUserDecisions(tenant, user, limit);
  }
  absl::StatusOr<std::optional<ChallengeRecord>> GetChallenge(
      const std::string& tenant, const std::string& idempotency_key) override {
    return inner_.GetChallenge(tenant, idempotency_key);
  }
  absl::StatusOr<DeletedUser> DeleteUser(const std::string& tenant,
                                         const std::string& user) override {
    return inner_.DeleteUser(tenant, user);
  }
  absl::StatusOr<SweepResult> Sweep(absl::Time now, uint32_t default_retention_days,
                                    std::size_t limit) override {
    return inner_.Sweep(now, default_retention_days, limit);
  }

 private:
  InMemoryContAuthStore inner_;
  mutable absl::Mutex mu_;
  bool open_ ABSL_GUARDED_BY(mu_) = true;
  absl::Status list_failure_ ABSL_GUARDED_BY(mu_);
  int list_calls_ ABSL_GUARDED_BY(mu_) = 0;
};

class ContAuthBackgroundTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cipher = ProfileCipher::Create("k1", std::string(32, 'm'));
    ASSERT_TRUE(cipher.ok());
    cipher_ = std::make_unique<ProfileCipher>(*cipher);
    options_.policy_cache_ttl = absl::Hours(1);
    options_.background_refresh = absl::Minutes(5);
    options_.background_retry = absl::Seconds(30);
  }

  std::unique_ptr<ContAuth> Make(ContAuthStore* store) {
    return std::make_unique<ContAuth>(store, &publisher_, cipher_.get(), nullptr, &clock_, nullptr,
                                      options_);
  }

  static void Enable(ContAuth& c, const std::string& tenant) {
    Policy p;
    p.min_enroll_samples = 10;
    ASSERT_OK(c.UpdatePolicy(tenant, p, 0).status());
  }

  static void EnrollUser(ContAuth& c, const std::string& tenant, const std::string& user,
                         uint32_t seed) {
    testing::Typist t(seed);
    TelemetryBatch b;
    b.tenant_id = tenant;
    b.session_id = "enroll-" + user;
    b.user_id = user;
    for (int i = 0; i < 12; ++i) b.keystrokes.push_back(t.Sample(absl::StrCat(user, "-e", i)));
    ASSERT_OK(c.Ingest(b).status());
  }

  // Alice's and three other users' profiles.
  static void EnrollTenant(ContAuth& c, const std::string& tenant) {
    Enable(c, tenant);
    EnrollUser(c, tenant, "alice", 1);
    EnrollUser(c, tenant, "bob", 2);
    EnrollUser(c, tenant, "carol", 3);
    EnrollUser(c, tenant, "dave", 4);
  }

  // The score of one fixed probe (typed by bob, claiming alice) in a new session.
  static double ProbeScore(ContAuth& c, const std::string& tenant, const std::string& session) {
    testing::Typist bob(2);
    ScoreInput in{tenant, session, "alice", {}, false, {}};
    in.probes.push_back(bob.Sample("probe", PhaseRequest::kProbe));
    absl::StatusOr<ScoreResult> r = c.Score(in);
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok() || r->sample_scores.size() != 1) return -1;
    return r->sample_scores[0].score;
  }

  static bool AwaitBuilt(ContAuth& c, uint64_t n) {
    const absl::Time deadline = absl::Now() + kWaitLimit;
    while (c.background_rebuild_stats().built < n) {
      if (absl::Now() > deadline) return false;
      absl::SleepFor(absl::Milliseconds(2));
    }
    return true;
  }

  ContAuthOptions options_;
  InMemoryRiskPublisher publisher_;
  FakeClock clock_;
  std::unique_ptr<ProfileCipher> cipher_;
};

TEST_F(ContAuthBackgroundTest, FirstCallsScoreGenuineOnlyWithoutWaitingForTheBuild) {
  GatedStore store;
  store.Close();
  std::unique_ptr<ContAuth> c = Make(&store);
  // Every enrollment and the probe return while the first build is held at the gate.
  EnrollTenant(*c, "acme");
  ASSERT_TRUE(store.AwaitListCalls(1));
  const double genuine_only = ProbeScore(*c, "acme", "s1");
  EXPECT_EQ(c->background_rebuild_stats().built, 0u);
  EXPECT_EQ(store.list_calls(), 1);  // every call above found the build pending

  store.Open();
  ASSERT_TRUE(AwaitBuilt(*c, 1));
  const double with_background = ProbeScore(*c, "acme", "s2");
  EXPECT_NE(with_background, genuine_only);

  // The same figures as a synchronous build (the pre-worker behaviour) on the same data.
  ASSERT_OK(c->RefreshBackground("acme"));
  EXPECT_EQ(ProbeScore(*c, "acme", "s3"), with_background);
  EXPECT_EQ(c->background_rebuild_stats().failed, 0u);
}

TEST_F(ContAuthBackgroundTest, StaleBackgroundIsServedWhileTheRebuildWaits) {
  GatedStore store;
  std::unique_ptr<ContAuth> c = Make(&store);
  EnrollTenant(*c, "acme");
  ASSERT_TRUE(c->WaitForBackgroundIdle(kWaitLimit));  // the build the enrollments scheduled
  ASSERT_OK(c->RefreshBackground("acme"));
  const int calls_before = store.list_calls();
  const double old_score = ProbeScore(*c, "acme", "s1");
  EXPECT_EQ(store.list_calls(), calls_before);  // fresh: nothing scheduled

  // A fifth user changes the cohort; the cached background is now stale.
  EnrollUser(*c, "acme", "erin", 5);
  clock_.Advance(absl::Minutes(6));
  store.Close();
  EXPECT_EQ(ProbeScore(*c, "acme", "s2"), old_score);  // answered from the stale background
  ASSERT_TRUE(store.AwaitListCalls(calls_before + 1));
  EXPECT_EQ(ProbeScore(*c, "acme", "s3"), old_score);  // still, while the rebuild is held

  const uint64_t built = c->background_rebuild_stats().built;
  store.Open();
  ASSERT_TRUE(AwaitBuilt(*c, built + 1));
  const double new_score = ProbeScore(*c, "acme", "s4");
  EXPECT_NE(new_score, old_score);

  // Equal to a synchronous build of the same five users by a second instance.
  std::unique_ptr<ContAuth> other = Make(&store);
  ASSERT_OK(other->RefreshBackground("acme"));
  EXPECT_EQ(ProbeScore(*other, "acme", "s5"), new_score);
}

TEST_F(ContAuthBackgroundTest, ConcurrentStaleCallsScheduleOneRebuild) {
  GatedStore store;
  std::unique_ptr<ContAuth> c = Make(&store);
  EnrollTenant(*c, "acme");
  ASSERT_TRUE(c->WaitForBackgroundIdle(kWaitLimit));  // the build the enrollments scheduled
  ASSERT_OK(c->RefreshBackground("acme"));
  const int calls_before = store.list_calls();
  const uint64_t built_before = c->background_rebuild_stats().built;
  clock_.Advance(absl::Minutes(6));
  store.Close();

  constexpr int kCallers = 8;
  std::vector<std::thread> callers;
  for (int i = 0; i < kCallers; ++i) {
    callers.emplace_back([&, i] { ProbeScore(*c, "acme", absl::StrCat("c", i)); });
  }
  for (std::thread& t : callers) t.join();  // all returned with the gate closed
  ASSERT_TRUE(store.AwaitListCalls(calls_before + 1));
  EXPECT_EQ(store.list_calls(), calls_before + 1);

  store.Open();
  ASSERT_TRUE(AwaitBuilt(*c, built_before + 1));
  ProbeScore(*c, "acme", "after");  // fresh again: schedules nothing
  ASSERT_TRUE(c->WaitForBackgroundIdle(kWaitLimit));
  EXPECT_EQ(store.list_calls(), calls_before + 1);
  EXPECT_EQ(c->background_rebuild_stats().built, built_before + 1);
}

TEST_F(ContAuthBackgroundTest, FullQueueSkipsTheRebuildAndALaterCallRetries) {
  options_.background_queue_capacity = 1;
  GatedStore store;
  store.Close();
  std::unique_ptr<ContAuth> c = Make(&store);
  for (const char* tenant : {"t1", "t2", "t3"}) Enable(*c, tenant);
  EnrollUser(*c, "t1", "alice", 1);  // t1's build starts and is held at the gate
  ASSERT_TRUE(store.AwaitListCalls(1));
  EnrollUser(*c, "t2", "alice", 1);  // t2 waits in the queue (capacity 1)
  EnrollUser(*c, "t3", "alice", 1);  // no room: skipped
  EXPECT_EQ(c->background_rebuild_stats().skipped, 1u);

  store.Open();
  ASSERT_TRUE(AwaitBuilt(*c, 2));
  EXPECT_EQ(store.list_calls(), 2);  // t1, t2
  EnrollUser(*c, "t3", "bob", 2);    // t3 still has no background: scheduled now
  ASSERT_TRUE(AwaitBuilt(*c, 3));
  EXPECT_EQ(store.list_calls(), 3);
  EXPECT_EQ(c->background_rebuild_stats().skipped, 1u);
}

TEST_F(ContAuthBackgroundTest, FailedRebuildKeepsTheOldBackgroundAndBacksOff) {
  GatedStore store;
  std::unique_ptr<ContAuth> c = Make(&store);
  EnrollTenant(*c, "acme");
  ASSERT_TRUE(c->WaitForBackgroundIdle(kWaitLimit));  // the build the enrollments scheduled
  ASSERT_OK(c->RefreshBackground("acme"));
  const double old_score = ProbeScore(*c, "acme", "s1");
  const int calls_before = store.list_calls();

  clock_.Advance(absl::Minutes(6));
  store.SetListFailure(absl::UnavailableError("database down"));
  EXPECT_THAT(c->RefreshBackground("acme"),
              StatusIs(absl::StatusCode::kUnavailable, ::testing::HasSubstr("tenant acme")));
  EXPECT_EQ(ProbeScore(*c, "acme", "s2"), old_score);  // stale, but kept
  // The failed refresh set the back-off: the stale call scheduled nothing.
  EXPECT_EQ(store.list_calls(), calls_before + 1);
  clock_.Advance(absl::Seconds(31));
  EXPECT_EQ(ProbeScore(*c, "acme", "s3"), old_score);  // schedules a retry, which fails
  ASSERT_TRUE(store.AwaitListCalls(calls_before + 2));
  ASSERT_TRUE(c->WaitForBackgroundIdle(kWaitLimit));
  EXPECT_EQ(c->background_rebuild_stats().failed, 2u);
  EXPECT_EQ(ProbeScore(*c, "acme", "s4"), old_score);  // the old background is kept

  store.SetListFailure(absl::OkStatus());
  clock_.Advance(absl::Seconds(31));
  const uint64_t built = c->background_rebuild_stats().built;
  ProbeScore(*c, "acme", "s5");
  ASSERT_TRUE(AwaitBuilt(*c, built + 1));
}

TEST_F(ContAuthBackgroundTest, ShutdownWithARebuildInFlightWaitsForItAndDropsTheQueue) {
  GatedStore store;
  store.Close();
  std::unique_ptr<ContAuth> c = Make(&store);
  Enable(*c, "t1");
  Enable(*c, "t2");
  EnrollUser(*c, "t1", "alice", 1);
  ASSERT_TRUE(store.AwaitListCalls(1));  // t1's build is running, held at the gate
  EnrollUser(*c, "t2", "alice", 1);      // t2's is queued

  absl::Notification stopped;
  std::thread stopper([&] {
    c->Stop();
    stopped.Notify();
  });
  // Stop cannot return while the running build is held; once released it must.
  EXPECT_FALSE(stopped.WaitForNotificationWithTimeout(absl::Milliseconds(50)));
  store.Open();
  ASSERT_TRUE(stopped.WaitForNotificationWithTimeout(kWaitLimit));
  stopper.join();
  EXPECT_EQ(store.list_calls(), 1);  // t2's queued build was dropped

  // After Stop the instance still answers and schedules nothing; destruction is immediate.
  EnrollUser(*c, "t2", "bob", 2);
  EXPECT_EQ(store.list_calls(), 1);
  c.reset();
}

TEST_F(ContAuthBackgroundTest, DestructionWithARebuildHeldDoesNotCrash) {
  GatedStore store;
  store.Close();
  std::unique_ptr<ContAuth> c = Make(&store);
  Enable(*c, "t1");
  EnrollUser(*c, "t1", "alice", 1);
  ASSERT_TRUE(store.AwaitListCalls(1));
  std::thread destroyer([&] { c.reset(); });
  store.Open();
  destroyer.join();
  EXPECT_EQ(c, nullptr);
}

}  // namespace
}  // namespace shieldx::contauth
