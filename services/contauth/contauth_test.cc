// ContAuth (the domain) on the in-memory store: intake, enrollment, scoring, decisions,
// challenges, policies, privacy, retention, concurrency and outages.
#include "services/contauth/contauth.h"

#include <thread>

#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/testing/process.h"
#include "libs/testing/status_matchers.h"
#include "services/contauth/contauth_test_util.h"
#include "services/contauth/in_memory_contauth_store.h"
#include "services/contauth/mmdb_test_writer.h"

namespace shieldx::contauth {
namespace {

using ::shieldx::testing::StatusIs;
using ::testing::Contains;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::Not;

class ContAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cipher = ProfileCipher::Create("k1", std::string(32, 'm'));
    ASSERT_TRUE(cipher.ok());
    cipher_ = std::make_unique<ProfileCipher>(*cipher);
    Rebuild(nullptr);
  }

  void Rebuild(const GeoLookup* geo) {
    ContAuthOptions o;
    o.policy_cache_ttl = absl::ZeroDuration();
    o.background_refresh = absl::ZeroDuration();
    contauth_ =
        std::make_unique<ContAuth>(&store_, &publisher_, cipher_.get(), geo, &clock_, nullptr, o);
  }

  void Enable(const std::string& tenant, uint32_t min_enroll = 10) {
    Policy p;
    p.min_enroll_samples = min_enroll;
    absl::StatusOr<Policy> cur = contauth_->GetPolicy(tenant);
    ASSERT_TRUE(cur.ok()) << cur.status();
    ASSERT_OK(contauth_->UpdatePolicy(tenant, p, cur->version).status());
  }

  TelemetryBatch Batch(const std::string& tenant, const std::string& session,
                       const std::string& user) {
    TelemetryBatch b;
    b.tenant_id = tenant;
    b.session_id = session;
    b.user_id = user;
    return b;
  }

  // Enrolls `n` samples of `typist` for `user` (one batch of auto-phase samples).
  void EnrollUser(const std::string& tenant, const std::string& user, testing::Typist& typist,
                  int n) {
    TelemetryBatch b = Batch(tenant, "enroll-" + user, user);
    for (int i = 0; i < n; ++i) b.keystrokes.push_back(typist.Sample(absl::StrCat(user, "-e", i)));
    absl::StatusOr<IngestResult> r = contauth_->Ingest(b);
    ASSERT_TRUE(r.ok()) << r.status();
  }

  absl::StatusOr<IngestResult> Probe(const std::string& tenant, const std::string& session,
                                     const std::string& user, testing::Typist& typist, int n) {
    TelemetryBatch b = Batch(tenant, session, user);
    for (int i = 0; i < n; ++i) {
      b.keystrokes.push_back(typist.Sample(absl::StrCat(session, "-p", i), PhaseRequest::kProbe));
    }
    return contauth_->Ingest(b);
  }

  InMemoryContAuthStore store_;
  InMemoryRiskPublisher publisher_;
  FakeClock clock_;
  std::unique_ptr<ProfileCipher> cipher_;
  std::unique_ptr<ContAuth> contauth_;
};

TEST_F(ContAuthTest, UnknownTenantIsRejectedNamingIt) {
  TelemetryBatch b = Batch("ghost", "s1", "alice");
  EXPECT_THAT(contauth_->Ingest(b).status(),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("tenant ghost: unknown")));
  EXPECT_THAT(contauth_->Score({"ghost", "s1", "alice", {}, false, {}}).status(),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("ghost")));
  // GetPolicy answers the defaults (the tenant can then be enabled).
  ASSERT_OK_AND_ASSIGN(Policy p, contauth_->GetPolicy("ghost"));
  EXPECT_EQ(p.version, 0);
}

TEST_F(ContAuthTest, MalformedTelemetryIsRejectedNamingTheProblem) {
  Enable("acme");
  testing::Typist t(1);
  TelemetryBatch b = Batch("acme", "s1", "alice");
  b.keystrokes.push_back(t.Sample("k0"));
  b.keystrokes[0].sample.events[2].up_ms = -5;
  EXPECT_THAT(contauth_->Ingest(b).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("keystroke_samples[0]"), HasSubstr("sample k0"))));
  // Nothing was stored.
  EXPECT_THAT(contauth_->GetProfileSummary("acme", "alice").status(),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(ContAuthTest, EnrollsThenAllowsTheUserAndChallengesAnImpostor) {
  Enable("acme", 15);
  testing::Typist alice(1), bob(2), carol(3), dave(4);
  EnrollUser("acme", "alice", alice, 15);
  EnrollUser("acme", "bob", bob, 15);
  EnrollUser("acme", "carol", carol, 15);
  EnrollUser("acme", "dave", dave, 15);
  ASSERT_OK_AND_ASSIGN(ProfileSummary s, contauth_->GetProfileSummary("acme", "alice"));
  EXPECT_TRUE(s.enrollments[0].enrolled);
  EXPECT_EQ(s.enrollments[0].sample_count, 15u);
  EXPECT_EQ(s.key_id, "k1");
  // The probes score against the background of all four users (built off the request path
  // otherwise: the enrollments' own rebuild may predate the last profile).
  ASSERT_OK(contauth_->RefreshBackground("acme"));

  ASSERT_OK_AND_ASSIGN(IngestResult genuine, Probe("acme", "sg", "alice", alice, 4));
  ASSERT_EQ(genuine.sample_scores.size(), 4u);
  ASSERT_OK_AND_ASSIGN(IngestResult impostor, Probe("acme", "si", "alice", bob, 4));
  ASSERT_EQ(impostor.sample_scores.size(), 4u);
  for (int i = 0; i < 4; ++i) {
    EXPECT_LT(genuine.sample_scores[i].score, impostor.sample_scores[i].score);
  }
  EXPECT_EQ(genuine.risk.action, Action::kAllow) << genuine.risk.risk;
  EXPECT_TRUE(genuine.risk.enrolled);
  EXPECT_THAT(impostor.risk.action, ::testing::AnyOf(Action::kChallenge, Action::kDeny))
      << impostor.risk.risk;
  EXPECT_THAT(impostor.risk.reasons, Contains(Field(&RiskReason::code, "KEYSTROKE_MISMATCH")));
  EXPECT_GT(impostor.risk.confidence, 0.4);
  // Explicit probes never change the profile.
  ASSERT_OK_AND_ASSIGN(ProfileSummary after, contauth_->GetProfileSummary("acme", "alice"));
  EXPECT_EQ(after.enrollments[0].sample_count, 15u);
}

TEST_F(ContAuthTest, ConfidentAutoProbesUpdateTheTemplateAndImpostorsDoNot) {
  Enable("acme", 15);
  testing::Typist alice(1), bob(2), carol(3), dave(4);
  EnrollUser("acme", "alice", alice, 15);
  EnrollUser("acme", "bob", bob, 15);
  EnrollUser("acme", "carol", carol, 15);
  EnrollUser("acme", "dave", dave, 15);
  TelemetryBatch b = Batch("acme", "s-auto", "alice");
  for (int i = 0; i < 6; ++i) b.keystrokes.push_back(alice.Sample(absl::StrCat("a", i)));
  ASSERT_OK(contauth_->Ingest(b).status());
  ASSERT_OK_AND_ASSIGN(ProfileSummary s, contauth_->GetProfileSummary("acme", "alice"));
  EXPECT_GT(s.enrollments[0].sample_count, 15u);
  const uint32_t before = s.enrollments[0].sample_count;
  TelemetryBatch x = Batch("acme", "s-x", "alice");
  for (int i = 0; i < 6; ++i) x.keystrokes.push_back(bob.Sample(absl::StrCat("b", i)));
  ASSERT_OK(contauth_->Ingest(x).status());
  ASSERT_OK_AND_ASSIGN(ProfileSummary s2, contauth_->GetProfileSummary("acme", "alice"));
  EXPECT_EQ(s2.enrollments[0].sample_count, before);
}

TEST_F(ContAuthTest, RepeatedBatchSequenceIsAcknowledgedWithoutBeingApplied) {
  Enable("acme");
  testing::Typist t(1);
  TelemetryBatch b = Batch("acme", "s1", "alice");
  b.batch_sequence = 1;
  b.keystrokes.push_back(t.Sample("k1"));
  ASSERT_OK_AND_ASSIGN(IngestResult first, contauth_->Ingest(b));
  EXPECT_FALSE(first.duplicate);
  ASSERT_OK_AND_ASSIGN(IngestResult again, contauth_->Ingest(b));
  EXPECT_TRUE(again.duplicate);
  EXPECT_EQ(again.risk.decision_id, first.risk.decision_id);
  ASSERT_OK_AND_ASSIGN(ProfileSummary s, contauth_->GetProfileSummary("acme", "alice"));
  EXPECT_EQ(s.enrollments[0].sample_count, 1u);
  b.batch_sequence = 2;
  ASSERT_OK(contauth_->Ingest(b).status());
  ASSERT_OK_AND_ASSIGN(s, contauth_->GetProfileSummary("acme", "alice"));
  EXPECT_EQ(s.enrollments[0].sample_count, 2u);
}

TEST_F(ContAuthTest, ConcurrentIngestionForOneUserLosesNoUpdate) {
  Enable("acme", 200);  // everything below stays enrollment
  constexpr int kThreads = 8, kBatches = 5;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int th = 0; th < kThreads; ++th) {
    threads.emplace_back([&, th] {
      testing::Typist t(100 + th);
      for (int i = 0; i < kBatches; ++i) {
        TelemetryBatch b = Batch("acme", absl::StrCat("s", th % 2), "alice");  // shared sessions
        b.keystrokes.push_back(t.Sample(absl::StrCat("t", th, "-", i), PhaseRequest::kEnroll));
        b.pointer = testing::PointerBatch(th * 100 + i, 2, 1.0, 1.0);
        if (!contauth_->Ingest(b).ok()) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  ASSERT_OK_AND_ASSIGN(ProfileSummary s, contauth_->GetProfileSummary("acme", "alice"));
  EXPECT_EQ(s.enrollments[0].sample_count, static_cast<uint32_t>(kThreads * kBatches));
  // Every batch was applied: one decision each.
  ASSERT_OK_AND_ASSIGN(ProfileExport e, contauth_->ExportProfile("acme", "alice"));
  EXPECT_EQ(e.decisions.size(), static_cast<std::size_t>(kThreads * kBatches));
}

TEST_F(ContAuthTest, TenantsNeverSeeEachOthersUsersSessionsOrDecisions) {
  Enable("acme");
  Enable("globex");
  testing::Typist t(1);
  EnrollUser("acme", "alice", t, 12);
  ASSERT_OK_AND_ASSIGN(IngestResult r, Probe("acme", "shared-session", "alice", t, 1));
  EXPECT_THAT(contauth_->GetProfileSummary("globex", "alice").status(),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(contauth_->GetDecision("globex", "shared-session").status(),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(contauth_->ExportProfile("globex", "alice").status(),
              StatusIs(absl::StatusCode::kNotFound));
  // The same session id in another tenant is another session (and another user is fine).
  ASSERT_OK_AND_ASSIGN(IngestResult g, Probe("globex", "shared-session", "mallory", t, 1));
  EXPECT_FALSE(g.risk.enrolled);
  EXPECT_TRUE(g.sample_scores.empty());  // mallory has no profile in globex
  // A challenge report in globex cannot refer to acme's decision.
  EXPECT_THAT(contauth_
                  ->ReportChallengeOutcome({"globex", "shared-session", r.risk.decision_id,
                                            ChallengeKind::kOtp, ChallengeOutcome::kPassed, "k1"})
                  .status(),
              StatusIs(absl::StatusCode::kNotFound));
  // Deleting in globex leaves acme's alice alone.
  ASSERT_OK(contauth_->DeleteProfile("globex", "alice").status());
  EXPECT_OK(contauth_->GetProfileSummary("acme", "alice").status());
}

TEST_F(ContAuthTest, ASessionBelongsToOneUser) {
  Enable("acme");
  ASSERT_OK(contauth_->Ingest(Batch("acme", "s1", "alice")).status());
  EXPECT_THAT(contauth_->Ingest(Batch("acme", "s1", "bob")).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("another user")));
  EXPECT_THAT(contauth_->Score({"acme", "s1", "bob", {}, false, {}}).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(ContAuthTest, RiskIsPublishedInTheDocumentedFormat) {
  Enable("acme");
  ASSERT_OK_AND_ASSIGN(IngestResult r, contauth_->Ingest(Batch("acme", "s1", "alice")));
  // The value is the bare decimal risk libs/pipeline/risk.h parses.
  EXPECT_EQ(publisher_.Get("shieldx:contauth:risk:acme:s1"), "0.5000");  // no evidence yet
  EXPECT_EQ(r.risk.action, Action::kMonitor);
  ASSERT_OK_AND_ASSIGN(Decision d, contauth_->GetDecision("acme", "s1"));
  EXPECT_EQ(d.decision_id, r.risk.decision_id);
  EXPECT_THAT(d.reasons, Contains(Field(&RiskReason::code, "NOT_ENROLLED")));
  // Decisions expire with the policy's TTL.
  clock_.Advance(absl::Minutes(6));
  EXPECT_THAT(contauth_->GetDecision("acme", "s1").status(), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(ContAuthTest, PublishFailureDoesNotFailIngestion) {
  Enable("acme");
  publisher_.SetFailure(absl::UnavailableError("redis down"));
  ASSERT_OK_AND_ASSIGN(IngestResult r, contauth_->Ingest(Batch("acme", "s1", "alice")));
  EXPECT_OK(contauth_->GetDecision("acme", "s1").status());
  EXPECT_FALSE(r.risk.decision_id.empty());
}

TEST_F(ContAuthTest, StoreOutageIsUnavailableAndRecovers) {
  Enable("acme");
  store_.SetFailure(absl::UnavailableError("postgres: cannot connect"));
  Rebuild(nullptr);  // drop the policy cache
  EXPECT_THAT(contauth_->Ingest(Batch("acme", "s1", "alice")).status(),
              StatusIs(absl::StatusCode::kUnavailable));
  store_.SetFailure(absl::OkStatus());
  EXPECT_OK(contauth_->Ingest(Batch("acme", "s1", "alice")).status());
}

TEST_F(ContAuthTest, PassedChallengeFoldsTheSamplesAndLowersRiskFailedRaisesIt) {
  Enable("acme");
  testing::Typist alice(1), other(9);
  EnrollUser("acme", "alice", alice, 12);
  // Alice on a bad day: auto probes that are not accepted are kept for a challenge.
  TelemetryBatch b = Batch("acme", "s1", "alice");
  for (int i = 0; i < 3; ++i) b.keystrokes.push_back(other.Sample(absl::StrCat("x", i)));
  ASSERT_OK_AND_ASSIGN(IngestResult r, contauth_->Ingest(b));
  ASSERT_OK_AND_ASSIGN(ProfileSummary before, contauth_->GetProfileSummary("acme", "alice"));
  ASSERT_OK_AND_ASSIGN(
      Decision passed,
      contauth_->ReportChallengeOutcome({"acme", "s1", r.risk.decision_id, ChallengeKind::kWebAuthn,
                                         ChallengeOutcome::kPassed, "c1"}));
  EXPECT_LT(passed.risk, r.risk.risk);
  EXPECT_THAT(passed.reasons, Contains(Field(&RiskReason::code, "CHALLENGE_PASSED")));
  ASSERT_OK_AND_ASSIGN(ProfileSummary after, contauth_->GetProfileSummary("acme", "alice"));
  EXPECT_EQ(after.enrollments[0].sample_count, before.enrollments[0].sample_count + 3);
  // A retry with the same key is not applied twice.
  ASSERT_OK_AND_ASSIGN(
      Decision retry,
      contauth_->ReportChallengeOutcome({"acme", "s1", r.risk.decision_id, ChallengeKind::kWebAuthn,
                                         ChallengeOutcome::kPassed, "c1"}));
  EXPECT_EQ(retry.decision_id, passed.decision_id);
  ASSERT_OK_AND_ASSIGN(ProfileSummary again, contauth_->GetProfileSummary("acme", "alice"));
  EXPECT_EQ(again.enrollments[0].sample_count, after.enrollments[0].sample_count);
  // The key cannot be reused for another challenge.
  EXPECT_THAT(contauth_
                  ->ReportChallengeOutcome({"acme", "s1", passed.decision_id, ChallengeKind::kOtp,
                                            ChallengeOutcome::kFailed, "c1"})
                  .status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("c1")));
  // A failure in another session raises that session's risk.
  ASSERT_OK_AND_ASSIGN(IngestResult r2, contauth_->Ingest(Batch("acme", "s2", "alice")));
  ASSERT_OK_AND_ASSIGN(Decision failed, contauth_->ReportChallengeOutcome(
                                            {"acme", "s2", r2.risk.decision_id, ChallengeKind::kOtp,
                                             ChallengeOutcome::kFailed, "c2"}));
  EXPECT_GT(failed.risk, r2.risk.risk);
  EXPECT_THAT(failed.action, ::testing::AnyOf(Action::kChallenge, Action::kDeny));
  EXPECT_THAT(contauth_
                  ->ReportChallengeOutcome({"acme", "s2", "d-missing", ChallengeKind::kOtp,
                                            ChallengeOutcome::kFailed, "c3"})
                  .status(),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("d-missing")));
  EXPECT_THAT(contauth_
                  ->ReportChallengeOutcome({"acme", "s2", r2.risk.decision_id, ChallengeKind::kOtp,
                                            ChallengeOutcome::kUnspecified, "c4"})
                  .status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("outcome")));
}

TEST_F(ContAuthTest, ExportHasEverythingAndDeleteRemovesIt) {
  Enable("acme");
  testing::Typist t(1);
  EnrollUser("acme", "alice", t, 12);
  TelemetryBatch b = Batch("acme", "s1", "alice");
  b.has_device = true;
  b.device.device_id = "dev-1";
  b.has_context = true;
  b.context.ip = "203.0.113.7";
  b.context.user_agent = "Mozilla/5.0 (X11; Linux x86_64) Firefox/121.0";
  ASSERT_OK(contauth_->Ingest(b).status());
  ASSERT_OK_AND_ASSIGN(ProfileExport e, contauth_->ExportProfile("acme", "alice"));
  EXPECT_EQ(e.device_ids, std::vector<std::string>{"dev-1"});
  EXPECT_EQ(e.networks, std::vector<std::string>{"203.0.113.0/24"});
  EXPECT_EQ(e.decisions.size(), 2u);  // enrollment batch + context batch
  int fixed = 0;
  for (const FeatureVector& v : e.feature_vectors) fixed += v.modality == Modality::kKeystrokeFixed;
  EXPECT_EQ(fixed, 10);  // min_enroll_samples; the 2 later AUTO samples were scored, not folded
  ASSERT_OK_AND_ASSIGN(DeleteResult d, contauth_->DeleteProfile("acme", "alice"));
  EXPECT_EQ(d.deleted_feature_vectors, e.feature_vectors.size());
  EXPECT_EQ(d.deleted_decisions, 2u);
  EXPECT_THAT(contauth_->GetProfileSummary("acme", "alice").status(),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(contauth_->ExportProfile("acme", "alice").status(),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(contauth_->GetDecision("acme", "s1").status(), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(publisher_.Get("shieldx:contauth:risk:acme:s1"), "");
  // Deleting again is fine and deletes nothing.
  ASSERT_OK_AND_ASSIGN(DeleteResult again, contauth_->DeleteProfile("acme", "alice"));
  EXPECT_EQ(again.deleted_feature_vectors, 0u);
  EXPECT_EQ(again.deleted_decisions, 0u);
}

TEST_F(ContAuthTest, PolicyUpdatesAreGuardedByTheEtagAndValidated) {
  ASSERT_OK_AND_ASSIGN(Policy p, contauth_->GetPolicy("acme"));
  EXPECT_EQ(p.version, 0);
  p.challenge_at = 0.6;
  ASSERT_OK_AND_ASSIGN(Policy v1, contauth_->UpdatePolicy("acme", p, 0));
  EXPECT_EQ(v1.version, 1);
  EXPECT_THAT(contauth_->UpdatePolicy("acme", p, 0).status(),
              StatusIs(absl::StatusCode::kAborted, HasSubstr("stale")));
  p.monitor_at = 0.8;  // above challenge_at
  EXPECT_THAT(contauth_->UpdatePolicy("acme", p, 1).status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
  ASSERT_OK_AND_ASSIGN(Policy read, contauth_->GetPolicy("acme"));
  EXPECT_DOUBLE_EQ(read.challenge_at, 0.6);
}

TEST_F(ContAuthTest, SweepEnforcesRetentionAndSessionExpiry) {
  Policy p;
  p.decision_retention_days = 1;
  ASSERT_OK(contauth_->UpdatePolicy("acme", p, 0).status());
  ASSERT_OK(contauth_->Ingest(Batch("acme", "s1", "alice")).status());
  ASSERT_OK_AND_ASSIGN(SweepResult none, contauth_->Sweep());
  EXPECT_EQ(none.decisions, 0u);
  clock_.Advance(absl::Hours(25));
  ASSERT_OK_AND_ASSIGN(SweepResult swept, contauth_->Sweep());
  EXPECT_EQ(swept.decisions, 1u);
  EXPECT_EQ(swept.sessions, 1u);  // session_ttl 24 h
  EXPECT_THAT(contauth_->ExportProfile("acme", "alice").status(),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(ContAuthTest, ContextFromAnotherCountryTooSoonIsImpossibleTravel) {
  ASSERT_OK_AND_ASSIGN(auto dir, ::shieldx::testing::TempDir::Create("contauth-geo"));
  const std::string path = dir.path() + "/geo.mmdb";
  ASSERT_TRUE(testing::WriteTestMmdb(
      path, {{"203.0.113.0", 24, "DE", 52.52, 13.405}, {"198.51.100.0", 24, "US", 40.71, -74.0}}));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<MaxMindGeo> geo, MaxMindGeo::Open(path));
  Rebuild(geo.get());
  Enable("acme");
  for (int i = 0; i < 4; ++i) {
    TelemetryBatch b = Batch("acme", absl::StrCat("home", i), "alice");
    b.has_context = true;
    b.context.ip = "203.0.113.7";
    b.has_device = true;
    b.device.device_id = "dev-1";
    ASSERT_OK(contauth_->Ingest(b).status());
    clock_.Advance(absl::Minutes(10));
  }
  ASSERT_OK_AND_ASSIGN(ProfileSummary s, contauth_->GetProfileSummary("acme", "alice"));
  EXPECT_EQ(s.countries, std::vector<std::string>{"DE"});
  TelemetryBatch far = Batch("acme", "abroad", "alice");
  far.has_context = true;
  far.context.ip = "198.51.100.20";
  far.has_device = true;
  far.device.device_id = "dev-2";
  ASSERT_OK_AND_ASSIGN(IngestResult r, contauth_->Ingest(far));
  ASSERT_FALSE(r.risk.reasons.empty());
  EXPECT_EQ(r.risk.reasons[0].code, "IMPOSSIBLE_TRAVEL");
  EXPECT_THAT(r.risk.action, ::testing::AnyOf(Action::kChallenge, Action::kDeny)) << r.risk.risk;
  // The suspicious context was not learned.
  ASSERT_OK_AND_ASSIGN(ProfileSummary after, contauth_->GetProfileSummary("acme", "alice"));
  EXPECT_THAT(after.countries, Not(Contains("US")));
  // Score with the orchestrator's view of the request sees the same context risk.
  ScoreInput in{"acme", "home0", "alice", {}, true, {}};
  in.context.ip = "198.51.100.20";
  ASSERT_OK_AND_ASSIGN(ScoreResult sr, contauth_->Score(in));
  EXPECT_THAT(sr.risk.reasons, Contains(Field(&RiskReason::code, "IMPOSSIBLE_TRAVEL")));
}

TEST_F(ContAuthTest, ScoreUsesProbeSamplesWithoutEnrollingThem) {
  Enable("acme");
  testing::Typist alice(1), bob(2);
  EnrollUser("acme", "alice", alice, 12);
  ScoreInput in{"acme", "s-score", "alice", {}, false, {}};
  in.probes.push_back(bob.Sample("p1", PhaseRequest::kProbe));
  in.probes.push_back(bob.Sample("p2", PhaseRequest::kProbe));
  ASSERT_OK_AND_ASSIGN(ScoreResult r, contauth_->Score(in));
  ASSERT_EQ(r.sample_scores.size(), 2u);
  EXPECT_GT(r.risk.risk, 0.5);
  EXPECT_EQ(publisher_.Get("shieldx:contauth:risk:acme:s-score"),
            absl::StrFormat("%.4f", r.risk.risk));
  ASSERT_OK_AND_ASSIGN(ProfileSummary s, contauth_->GetProfileSummary("acme", "alice"));
  EXPECT_EQ(s.enrollments[0].sample_count, 10u);  // unchanged by Score
  in.probes[0].phase = PhaseRequest::kEnroll;
  EXPECT_THAT(contauth_->Score(in).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("probe_samples[0]")));
}

TEST_F(ContAuthTest, PointerEnrollsThenScoresADifferentHandHigher) {
  Enable("acme");
  for (int i = 0; i < 8; ++i) {
    TelemetryBatch b = Batch("acme", absl::StrCat("p", i), "alice");
    b.pointer = testing::PointerBatch(i, 6, 1.0, 1.0);
    ASSERT_OK(contauth_->Ingest(b).status());
  }
  TelemetryBatch same = Batch("acme", "same", "alice");
  same.pointer = testing::PointerBatch(50, 6, 1.0, 1.0);
  ASSERT_OK_AND_ASSIGN(IngestResult r1, contauth_->Ingest(same));
  TelemetryBatch other = Batch("acme", "other", "alice");
  other.pointer = testing::PointerBatch(51, 6, 3.5, 8.0);
  ASSERT_OK_AND_ASSIGN(IngestResult r2, contauth_->Ingest(other));
  EXPECT_LT(r1.risk.risk, 0.5);
  EXPECT_GT(r2.risk.risk, 0.5);
  EXPECT_THAT(r2.risk.reasons, Contains(Field(&RiskReason::code, "POINTER_MISMATCH")));
}

}  // namespace
}  // namespace shieldx::contauth

namespace shieldx::contauth {
namespace {

TEST(ContAuthKeyRotation, RowsSealedWithARetiredKeyOpenAndAreResealedWithTheCurrentOne) {
  InMemoryContAuthStore store;
  InMemoryRiskPublisher publisher;
  FakeClock clock;
  const std::string old_master(32, 'o'), new_master(32, 'n');
  ASSERT_OK_AND_ASSIGN(ProfileCipher k1, ProfileCipher::Create("k1", old_master));
  ContAuth before(&store, &publisher, &k1, nullptr, &clock, nullptr, {});
  ASSERT_OK(before.UpdatePolicy("acme", Policy{}, 0).status());
  testing::Typist t(1);
  TelemetryBatch b;
  b.tenant_id = "acme";
  b.session_id = "s1";
  b.user_id = "alice";
  b.keystrokes.push_back(t.Sample("e1"));
  ASSERT_OK(before.Ingest(b).status());
  ASSERT_OK_AND_ASSIGN(ProfileSummary s1, before.GetProfileSummary("acme", "alice"));
  EXPECT_EQ(s1.key_id, "k1");

  ASSERT_OK_AND_ASSIGN(ProfileCipher k2,
                       ProfileCipher::Create("k2", new_master, {{"k1", old_master}}));
  ContAuth after(&store, &publisher, &k2, nullptr, &clock, nullptr, {});
  ASSERT_OK_AND_ASSIGN(ProfileSummary s2, after.GetProfileSummary("acme", "alice"));
  EXPECT_EQ(s2.key_id, "k1");  // still the old key until written
  b.keystrokes[0] = t.Sample("e2");
  ASSERT_OK(after.Ingest(b).status());
  ASSERT_OK_AND_ASSIGN(ProfileSummary s3, after.GetProfileSummary("acme", "alice"));
  EXPECT_EQ(s3.key_id, "k2");
  EXPECT_EQ(s3.enrollments[0].sample_count, 2u);
  // Without the retired key, a k1 row is refused by name (here: none left, all re-sealed).
  ASSERT_OK_AND_ASSIGN(ProfileCipher only_k2, ProfileCipher::Create("k2", new_master));
  ContAuth strict(&store, &publisher, &only_k2, nullptr, &clock, nullptr, {});
  EXPECT_OK(strict.GetProfileSummary("acme", "alice").status());
}

}  // namespace
}  // namespace shieldx::contauth
