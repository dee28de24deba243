#include "services/credits/credits_service.h"

#include <grpcpp/grpcpp.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "libs/rpc/status.h"
#include "libs/rpc/timestamp.h"

namespace shieldx::credits {
namespace {

namespace pb = ::shieldx::credits::v1;
using ::shieldx::common::v1::Actor;

constexpr char kRead[] = "credits.read";
constexpr char kWrite[] = "credits.write";
constexpr char kAdmin[] = "credits.admin";
constexpr char kAudit[] = "credits.audit";
constexpr char kBilling[] = "platform.billing";
using rpc::Authorize;

// ---- time ---------------------------------------------------------------------------------

using rpc::FromProto;  // absl::Time <-> Timestamp (libs/rpc/timestamp.h)
using rpc::ToProto;

std::optional<absl::Time> OptFromProto(bool has, const google::protobuf::Timestamp& t) {
  if (!has) return std::nullopt;
  return FromProto(t);
}

// ---- domain -> proto ----------------------------------------------------------------------

void ToProto(const Account& a, pb::Account* out) {
  out->set_account_id(a.account_id);
  out->set_tenant_id(a.tenant_id);
  out->set_kind(static_cast<pb::AccountKind>(a.kind));
  out->set_overdraft_limit_credits(a.overdraft_limit_credits);
  out->set_alert_threshold_credits(a.alert_threshold_credits);
  ToProto(a.created_at, out->mutable_created_at());
}

void ToProto(const Balance& b, pb::Balance* out) {
  out->set_account_id(b.account_id);
  out->set_posted_credits(b.posted_credits);
  out->set_pending_credits(b.pending_credits);
  out->set_available_credits(b.available_credits);
  out->set_overdraft_limit_credits(b.overdraft_limit_credits);
  out->set_alert_threshold_credits(b.alert_threshold_credits);
  out->set_below_alert_threshold(b.below_alert_threshold);
  out->set_sequence(b.sequence);
  ToProto(b.as_of, out->mutable_as_of());
}

void ToProto(const Transfer& t, pb::Transfer* out) {
  if (t.transfer_id.empty()) return;  // CAP consumed nothing: no transfer
  out->set_transfer_id(t.transfer_id);
  out->set_kind(static_cast<pb::TransferKind>(t.kind));
  out->set_debit_account_id(t.debit_account_id);
  out->set_credit_account_id(t.credit_account_id);
  out->set_amount_credits(t.amount_credits);
  out->set_usage_kind(static_cast<pb::UsageKind>(t.usage_kind));
  out->set_quantity(t.quantity);
  out->set_reference(t.reference);
  out->set_hold_id(t.hold_id);
  out->set_refunded_transfer_id(t.refunded_transfer_id);
  if (t.kind == TransferKind::kTopUp) {
    out->mutable_payment()->set_provider(t.payment.provider);
    out->mutable_payment()->set_external_reference(t.payment.external_reference);
    out->mutable_payment()->set_note(t.payment.note);
  }
  out->set_idempotency_key(t.idempotency_key);
  out->set_sequence(t.sequence);
  ToProto(t.created_at, out->mutable_created_at());
  out->set_reason(t.reason);
}

void ToProto(const Hold& h, pb::Hold* out) {
  out->set_hold_id(h.hold_id);
  out->set_amount_credits(h.amount_credits);
  out->set_captured_credits(h.captured_credits);
  out->set_state(static_cast<pb::HoldState>(h.state));
  out->set_usage_kind(static_cast<pb::UsageKind>(h.usage_kind));
  out->set_reference(h.reference);
  ToProto(h.expires_at, out->mutable_expires_at());
  ToProto(h.created_at, out->mutable_created_at());
}

// ---- proto -> domain ----------------------------------------------------------------------

UsageRecord FromProto(const pb::UsageRecord& r) {
  UsageRecord out;
  out.usage_kind = static_cast<UsageKind>(r.usage_kind());
  out.quantity = r.quantity();
  out.amount_credits = r.amount_credits();
  out.reference = r.reference();
  out.period_start = OptFromProto(r.has_period_start(), r.period_start());
  out.period_end = OptFromProto(r.has_period_end(), r.period_end());
  return out;
}

grpc::Status Fail(const absl::Status& s) { return rpc::StatusToGrpc(s); }

}  // namespace

grpc::Status CreditsServiceImpl::OpenAccount(grpc::ServerContext* ctx,
                                             const pb::OpenAccountRequest* req,
                                             pb::OpenAccountResponse* resp) {
  if (auto s = Authorize(ctx, req->tenant_id(), kBilling); !s.ok()) return Fail(s);
  auto r = ledger_->OpenAccount({req->tenant_id(), req->idempotency_key(),
                                 req->overdraft_limit_credits(), req->alert_threshold_credits()});
  if (!r.ok()) return Fail(r.status());
  ToProto(r->account, resp->mutable_account());
  ToProto(r->balance, resp->mutable_balance());
  return grpc::Status::OK;
}

grpc::Status CreditsServiceImpl::GetBalance(grpc::ServerContext* ctx,
                                            const pb::GetBalanceRequest* req,
                                            pb::GetBalanceResponse* resp) {
  if (auto s = Authorize(ctx, req->tenant_id(), kRead); !s.ok()) return Fail(s);
  auto r = ledger_->GetBalance(req->tenant_id());
  if (!r.ok()) return Fail(r.status());
  ToProto(*r, resp->mutable_balance());
  return grpc::Status::OK;
}

grpc::Status CreditsServiceImpl::TopUp(grpc::ServerContext* ctx, const pb::TopUpRequest* req,
                                       pb::TopUpResponse* resp) {
  if (auto s = Authorize(ctx, req->tenant_id(), kBilling); !s.ok()) return Fail(s);
  TopUpCommand c;
  c.tenant_id = req->tenant_id();
  c.idempotency_key = req->idempotency_key();
  c.amount_credits = req->amount_credits();
  c.payment = {req->payment().provider(), req->payment().external_reference(),
               req->payment().note()};
  auto r = ledger_->TopUp(c);
  if (!r.ok()) return Fail(r.status());
  ToProto(r->transfer, resp->mutable_transfer());
  ToProto(r->balance, resp->mutable_balance());
  return grpc::Status::OK;
}

grpc::ServerUnaryReactor* CreditsServiceImpl::Consume(grpc::CallbackServerContext* ctx,
                                                      const pb::ConsumeRequest* req,
                                                      pb::ConsumeResponse* resp) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  if (auto s = Authorize(ctx, req->tenant_id(), kWrite); !s.ok()) {
    reactor->Finish(Fail(s));
    return reactor;
  }
  ConsumeCommand c;
  c.tenant_id = req->tenant_id();
  c.idempotency_key = req->idempotency_key();
  c.record = FromProto(req->record());
  c.shortfall_policy = static_cast<ShortfallPolicy>(req->shortfall_policy());
  // `resp` and `reactor` stay valid until Finish().
  ledger_->ConsumeAsync(std::move(c), [reactor, resp](absl::StatusOr<ConsumeResult> r) {
    if (!r.ok()) {
      reactor->Finish(Fail(r.status()));
      return;
    }
    ToProto(r->transfer, resp->mutable_transfer());
    ToProto(r->balance, resp->mutable_balance());
    resp->set_shortfall_credits(r->shortfall_credits);
    reactor->Finish(grpc::Status::OK);
  });
  return reactor;
}

grpc::Status CreditsServiceImpl::ConsumeBatch(grpc::ServerContext* ctx,
                                              const pb::ConsumeBatchRequest* req,
                                              pb::ConsumeBatchResponse* resp) {
  if (auto s = Authorize(ctx, req->tenant_id(), kWrite); !s.ok()) return Fail(s);
  if (static_cast<std::size_t>(req->records_size()) > kMaxBatchRecords) {
    return Fail(absl::InvalidArgumentError(absl::StrCat(
        "records: at most ", kMaxBatchRecords, " usage records, got ", req->records_size())));
  }
  ConsumeBatchCommand c;
  c.tenant_id = req->tenant_id();
  c.idempotency_key = req->idempotency_key();
  c.records.reserve(req->records_size());
  for (const pb::UsageRecord& rec : req->records()) c.records.push_back(FromProto(rec));
  c.shortfall_policy = static_cast<ShortfallPolicy>(req->shortfall_policy());
  auto r = ledger_->ConsumeBatch(c);
  if (!r.ok()) return Fail(r.status());
  resp->set_applied_records(r->applied_records);
  resp->set_consumed_credits(r->consumed_credits);
  resp->set_shortfall_credits(r->shortfall_credits);
  ToProto(r->balance, resp->mutable_balance());
  resp->set_last_sequence(r->last_sequence);
  return grpc::Status::OK;
}

grpc::Status CreditsServiceImpl::Reserve(grpc::ServerContext* ctx, const pb::ReserveRequest* req,
                                         pb::ReserveResponse* resp) {
  if (auto s = Authorize(ctx, req->tenant_id(), kWrite); !s.ok()) return Fail(s);
  ReserveCommand c;
  c.tenant_id = req->tenant_id();
  c.idempotency_key = req->idempotency_key();
  c.amount_credits = req->amount_credits();
  c.ttl = absl::Milliseconds(req->ttl_ms());
  c.usage_kind = static_cast<UsageKind>(req->usage_kind());
  c.reference = req->reference();
  auto r = ledger_->Reserve(c);
  if (!r.ok()) return Fail(r.status());
  ToProto(r->hold, resp->mutable_hold());
  ToProto(r->transfer, resp->mutable_transfer());
  ToProto(r->balance, resp->mutable_balance());
  return grpc::Status::OK;
}

grpc::Status CreditsServiceImpl::Capture(grpc::ServerContext* ctx, const pb::CaptureRequest* req,
                                         pb::CaptureResponse* resp) {
  if (auto s = Authorize(ctx, req->tenant_id(), kWrite); !s.ok()) return Fail(s);
  auto r = ledger_->Capture({req->tenant_id(), req->idempotency_key(), req->hold_id(),
                             req->amount_credits(), req->quantity()});
  if (!r.ok()) return Fail(r.status());
  ToProto(r->hold, resp->mutable_hold());
  ToProto(r->transfer, resp->mutable_transfer());
  ToProto(r->balance, resp->mutable_balance());
  return grpc::Status::OK;
}

grpc::Status CreditsServiceImpl::Void(grpc::ServerContext* ctx, const pb::VoidRequest* req,
                                      pb::VoidResponse* resp) {
  if (auto s = Authorize(ctx, req->tenant_id(), kWrite); !s.ok()) return Fail(s);
  auto r = ledger_->Void({req->tenant_id(), req->idempotency_key(), req->hold_id(), req->reason()});
  if (!r.ok()) return Fail(r.status());
  ToProto(r->hold, resp->mutable_hold());
  ToProto(r->balance, resp->mutable_balance());
  return grpc::Status::OK;
}

grpc::Status CreditsServiceImpl::Refund(grpc::ServerContext* ctx, const pb::RefundRequest* req,
                                        pb::RefundResponse* resp) {
  if (auto s = Authorize(ctx, req->tenant_id(), kBilling); !s.ok()) return Fail(s);
  auto r = ledger_->Refund({req->tenant_id(), req->idempotency_key(), req->transfer_id(),
                            req->amount_credits(), req->reason()});
  if (!r.ok()) return Fail(r.status());
  ToProto(r->transfer, resp->mutable_transfer());
  resp->set_refundable_credits(r->refundable_credits);
  ToProto(r->balance, resp->mutable_balance());
  return grpc::Status::OK;
}

grpc::Status CreditsServiceImpl::ListTransfers(grpc::ServerContext* ctx,
                                               const pb::ListTransfersRequest* req,
                                               pb::ListTransfersResponse* resp) {
  if (auto s = Authorize(ctx, req->tenant_id(), kRead); !s.ok()) return Fail(s);
  ListTransfersQuery q;
  q.tenant_id = req->tenant_id();
  q.page_size = req->page().page_size();
  q.page_token = req->page().page_token();
  for (int k : req->kinds()) q.kinds.push_back(static_cast<TransferKind>(k));
  for (int k : req->usage_kinds()) q.usage_kinds.push_back(static_cast<UsageKind>(k));
  q.created_after = OptFromProto(req->has_created_after(), req->created_after());
  q.created_before = OptFromProto(req->has_created_before(), req->created_before());
  q.reference = req->reference();
  q.hold_id = req->hold_id();
  auto r = ledger_->ListTransfers(q);
  if (!r.ok()) return Fail(r.status());
  for (const Transfer& t : r->transfers) ToProto(t, resp->add_transfers());
  resp->mutable_page()->set_next_page_token(r->next_page_token);
  return grpc::Status::OK;
}

grpc::Status CreditsServiceImpl::UsageReport(grpc::ServerContext* ctx,
                                             const pb::UsageReportRequest* req,
                                             pb::UsageReportResponse* resp) {
  if (auto s = Authorize(ctx, req->tenant_id(), kRead); !s.ok()) return Fail(s);
  if (!req->has_period_start() || !req->has_period_end()) {
    return Fail(absl::InvalidArgumentError("period_start and period_end: required"));
  }
  UsageReportQuery q;
  q.tenant_id = req->tenant_id();
  q.period_start = FromProto(req->period_start());
  q.period_end = FromProto(req->period_end());
  q.granularity = static_cast<Granularity>(req->granularity());
  for (int k : req->usage_kinds()) q.usage_kinds.push_back(static_cast<UsageKind>(k));
  auto r = ledger_->Report(q);
  if (!r.ok()) return Fail(r.status());
  for (const UsageBucket& b : r->buckets) {
    pb::UsageBucket* out = resp->add_buckets();
    ToProto(b.bucket_start, out->mutable_bucket_start());
    ToProto(b.bucket_end, out->mutable_bucket_end());
    out->set_usage_kind(static_cast<pb::UsageKind>(b.usage_kind));
    out->set_quantity(b.quantity);
    out->set_amount_credits(b.amount_credits);
  }
  resp->set_total_quantity(r->total_quantity);
  resp->set_total_credits(r->total_credits);
  return grpc::Status::OK;
}

grpc::Status CreditsServiceImpl::SetAlertThreshold(grpc::ServerContext* ctx,
                                                   const pb::SetAlertThresholdRequest* req,
                                                   pb::SetAlertThresholdResponse* resp) {
  if (auto s = Authorize(ctx, req->tenant_id(), kAdmin); !s.ok()) return Fail(s);
  auto r = ledger_->SetAlertThreshold(
      {req->tenant_id(), req->idempotency_key(), req->threshold_credits()});
  if (!r.ok()) return Fail(r.status());
  ToProto(r->account, resp->mutable_account());
  ToProto(r->balance, resp->mutable_balance());
  return grpc::Status::OK;
}

grpc::Status CreditsServiceImpl::VerifyAudit(grpc::ServerContext* ctx,
                                             const pb::VerifyAuditRequest* req,
                                             pb::VerifyAuditResponse* resp) {
  if (auto s = Authorize(ctx, req->tenant_id(), kAudit); !s.ok()) return Fail(s);
  auto r = ledger_->VerifyAudit(req->tenant_id(), req->from_sequence(), req->to_sequence());
  if (!r.ok()) return Fail(r.status());
  resp->set_ok(r->ok);
  resp->set_verified_entries(r->verified_entries);
  for (const AuditProblem& p : r->problems) {
    pb::AuditProblem* out = resp->add_problems();
    out->set_account_id(p.account_id);
    out->set_sequence(p.sequence);
    out->set_kind(static_cast<pb::AuditProblemKind>(p.kind));
    out->set_description(p.description);
  }
  return grpc::Status::OK;
}

}  // namespace shieldx::credits
