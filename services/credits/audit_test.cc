#include "services/credits/audit.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/testing/status_matchers.h"

namespace shieldx::credits {
namespace {

using ::shieldx::testing::StatusIs;
using ::testing::SizeIs;

const std::string kKey(32, 'k');

AuditSigner Signer() { return *AuditSigner::Create(kKey); }

// A valid chain of `n` transfer entries with their ledger rows.
struct Chain {
  std::vector<AuditEntry> entries;
  std::vector<Transfer> transfers;
};

Chain MakeChain(const AuditSigner& signer, int n) {
  Chain c;
  std::string prev;
  for (int i = 1; i <= n; ++i) {
    Transfer t;
    t.transfer_id = "tr_" + std::to_string(i);
    t.tenant_id = "acme";
    t.account_id = "tenant:acme";
    t.sequence = i;
    t.kind = TransferKind::kConsume;
    t.debit_account_id = "tenant:acme";
    t.credit_account_id = kRevenueAccountId;
    t.amount_credits = 10 * i;
    t.created_at = absl::FromUnixSeconds(1000 + i);
    AuditEntry e =
        signer.MakeEntry("tenant:acme", i, prev, kEntryTransfer, t.transfer_id, TransferPayload(t));
    prev = e.hmac;
    c.entries.push_back(e);
    c.transfers.push_back(t);
  }
  return c;
}

std::vector<AuditProblem> Verify(const AuditSigner& signer, const Chain& c, int64_t head_seq,
                                 const std::string& head_hmac) {
  AuditVerifier v(&signer, "tenant:acme", 1, "", 1000);
  for (std::size_t i = 0; i < c.entries.size(); ++i) {
    std::optional<Transfer> t;
    for (const Transfer& tr : c.transfers) {
      if (tr.transfer_id == c.entries[i].transfer_id) t = tr;
    }
    v.Add(c.entries[i], t);
  }
  v.Finish(head_seq, head_hmac, 0);
  return v.problems();
}

TEST(AuditSigner, RefusesShortKeys) {
  EXPECT_THAT(AuditSigner::Create(std::string(31, 'k')),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_TRUE(AuditSigner::Create(std::string(32, 'k')).ok());
}

TEST(AuditSigner, HmacDependsOnKeySequencePredecessorAndPayload) {
  AuditSigner a = Signer();
  AuditSigner b = *AuditSigner::Create(std::string(32, 'j'));
  const std::string base = a.Sign("acct", 1, "", "payload");
  EXPECT_EQ(base.size(), kHmacBytes);
  EXPECT_NE(base, b.Sign("acct", 1, "", "payload"));
  EXPECT_NE(base, a.Sign("acct", 2, "", "payload"));
  EXPECT_NE(base, a.Sign("acct", 1, "x", "payload"));
  EXPECT_NE(base, a.Sign("acct", 1, "", "payload2"));
  EXPECT_NE(base, a.Sign("acct2", 1, "", "payload"));
  EXPECT_EQ(base, a.Sign("acct", 1, "", "payload"));
}

TEST(AuditPayload, FieldBoundariesCannotBeForged) {
  Transfer a;
  a.reference = "x\nreason=0:";
  Transfer b;
  b.reference = "x";
  b.reason = "";
  EXPECT_NE(TransferPayload(a), TransferPayload(b));
}

TEST(AuditVerifier, IntactChainHasNoProblems) {
  AuditSigner s = Signer();
  Chain c = MakeChain(s, 5);
  EXPECT_THAT(Verify(s, c, 5, c.entries.back().hmac), SizeIs(0));
}

TEST(AuditVerifier, ModifiedEntryIsReportedAtItsSequence) {
  AuditSigner s = Signer();
  Chain c = MakeChain(s, 5);
  c.entries[2].payload += "amount=1:9\n";
  auto problems = Verify(s, c, 5, c.entries.back().hmac);
  ASSERT_THAT(problems, SizeIs(1));
  EXPECT_EQ(problems[0].sequence, 3);
  EXPECT_EQ(problems[0].kind, AuditProblemKind::kModified);
}

TEST(AuditVerifier, DeletedEntryIsReportedMissing) {
  AuditSigner s = Signer();
  Chain c = MakeChain(s, 5);
  c.entries.erase(c.entries.begin() + 1);  // sequence 2
  auto problems = Verify(s, c, 5, c.entries.back().hmac);
  ASSERT_THAT(problems, SizeIs(1));
  EXPECT_EQ(problems[0].sequence, 2);
  EXPECT_EQ(problems[0].kind, AuditProblemKind::kMissing);
}

TEST(AuditVerifier, DeletedTailIsReportedMissing) {
  AuditSigner s = Signer();
  Chain c = MakeChain(s, 5);
  const std::string head = c.entries.back().hmac;
  c.entries.pop_back();
  auto problems = Verify(s, c, 5, head);
  ASSERT_THAT(problems, SizeIs(1));
  EXPECT_EQ(problems[0].sequence, 5);
  EXPECT_EQ(problems[0].kind, AuditProblemKind::kMissing);
}

TEST(AuditVerifier, SwappedEntriesAreReportedReordered) {
  AuditSigner s = Signer();
  Chain c = MakeChain(s, 5);
  std::swap(c.entries[1], c.entries[2]);
  std::swap(c.entries[1].sequence, c.entries[2].sequence);
  auto problems = Verify(s, c, 5, c.entries.back().hmac);
  // Entries 2 and 3 no longer chain, nor does 4 (its stored predecessor changed).
  ASSERT_THAT(problems, SizeIs(3));
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(problems[i].sequence, 2 + i);
    EXPECT_EQ(problems[i].kind, AuditProblemKind::kReordered);
  }
}

TEST(AuditVerifier, LedgerRowThatDiffersFromItsEntryIsReported) {
  AuditSigner s = Signer();
  Chain c = MakeChain(s, 3);
  c.transfers[1].amount_credits = 1;
  auto problems = Verify(s, c, 3, c.entries.back().hmac);
  ASSERT_THAT(problems, SizeIs(1));
  EXPECT_EQ(problems[0].sequence, 2);
  EXPECT_EQ(problems[0].kind, AuditProblemKind::kLedgerMismatch);
}

TEST(AuditVerifier, StopsRecordingAtTheLimit) {
  AuditSigner s = Signer();
  Chain c = MakeChain(s, 10);
  for (auto& e : c.entries) e.payload += "x";
  AuditVerifier v(&s, "tenant:acme", 1, "", 3);
  for (std::size_t i = 0; i < c.entries.size(); ++i) v.Add(c.entries[i], c.transfers[i]);
  EXPECT_THAT(v.problems(), SizeIs(3));
  EXPECT_TRUE(v.truncated());
  EXPECT_EQ(v.verified_entries(), 10);
}

}  // namespace
}  // namespace shieldx::credits
