#include "services/contauth/profile_cipher.h"

#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace shieldx::contauth {
namespace {

constexpr absl::string_view kMagic = "SXE1";
constexpr absl::string_view kSalt = "shieldx-contauth-profile-v1";
constexpr std::size_t kNonceBytes = 12;
constexpr std::size_t kTagBytes = 16;
constexpr std::size_t kKeyBytes = 32;

struct CtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};

absl::Status CheckKeyId(absl::string_view id) {
  if (id.empty() || id.size() > kMaxKeyIdBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("key id of ", id.size(), " bytes (must be 1..", kMaxKeyIdBytes, ")"));
  }
  for (char c : id) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
          c == '_' || c == '-')) {
      return absl::InvalidArgumentError(
          absl::StrCat("key id \"", id, "\": only [A-Za-z0-9._-] allowed"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckMaster(absl::string_view id, absl::string_view master) {
  if (master.size() < kMinMasterKeyBytes || master.size() > kMaxMasterKeyBytes) {
    return absl::InvalidArgumentError(absl::StrCat("master key ", id, ": ", master.size(),
                                                   " bytes (must be ", kMinMasterKeyBytes, "..",
                                                   kMaxMasterKeyBytes, ")"));
  }
  return absl::OkStatus();
}

std::string Aad(absl::string_view tenant, absl::string_view context) {
  return absl::StrCat("shieldx-contauth|", tenant, "|", context);
}

struct Parsed {
  absl::string_view key_id, nonce, ciphertext, tag;
};

absl::StatusOr<Parsed> Parse(absl::string_view e) {
  if (e.size() < kMagic.size() + 1 || e.substr(0, kMagic.size()) != kMagic) {
    return absl::InvalidArgumentError("sealed blob: bad magic (not an SXE1 envelope)");
  }
  const std::size_t id_len = static_cast<unsigned char>(e[kMagic.size()]);
  const std::size_t header = kMagic.size() + 1 + id_len + kNonceBytes;
  if (id_len == 0 || e.size() < header + kTagBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("sealed blob: truncated (", e.size(), " bytes, key id length ", id_len, ")"));
  }
  Parsed p;
  p.key_id = e.substr(kMagic.size() + 1, id_len);
  p.nonce = e.substr(kMagic.size() + 1 + id_len, kNonceBytes);
  p.ciphertext = e.substr(header, e.size() - header - kTagBytes);
  p.tag = e.substr(e.size() - kTagBytes);
  return p;
}

}  // namespace

absl::StatusOr<ProfileCipher> ProfileCipher::Create(std::string current_key_id,
                                                    std::string current_master,
                                                    std::map<std::string, std::string> retired) {
  if (absl::Status s = CheckKeyId(current_key_id); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("profile_key_id: ", s.message()));
  }
  if (absl::Status s = CheckMaster(current_key_id, current_master); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("profile_master_key: ", s.message()));
  }
  if (retired.size() > kMaxRetiredKeys) {
    return absl::InvalidArgumentError(absl::StrCat("profile_retired_keys: ", retired.size(),
                                                   " keys (limit ", kMaxRetiredKeys, ")"));
  }
  ProfileCipher c;
  for (auto& [id, master] : retired) {
    if (absl::Status s = CheckKeyId(id); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("profile_retired_keys: ", s.message()));
    }
    if (id == current_key_id) {
      return absl::InvalidArgumentError(
          absl::StrCat("profile_retired_keys: key id ", id, " is also the current profile_key_id"));
    }
    if (absl::Status s = CheckMaster(id, master); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("profile_retired_keys: ", s.message()));
    }
    c.masters_[id] = std::move(master);
  }
  c.masters_[current_key_id] = std::move(current_master);
  c.current_key_id_ = std::move(current_key_id);
  return c;
}

absl::StatusOr<std::map<std::string, std::string>> ProfileCipher::ParseRetiredKeys(
    absl::string_view text) {
  std::map<std::string, std::string> out;
  if (text.empty()) return out;
  for (absl::string_view item : absl::StrSplit(text, ',')) {
    const std::size_t colon = item.find(':');
    if (colon == absl::string_view::npos || colon == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("profile_retired_keys: entry ", out.size() + 1, " is not \"id:secret\""));
    }
    std::string id(item.substr(0, colon));
    if (!out.emplace(id, std::string(item.substr(colon + 1))).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("profile_retired_keys: key id ", id, " listed twice"));
    }
  }
  return out;
}

absl::StatusOr<std::string> ProfileCipher::DeriveKey(const std::string& master,
                                                     absl::string_view key_id,
                                                     absl::string_view tenant) const {
  std::unique_ptr<EVP_PKEY_CTX, CtxFree> ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, nullptr));
  std::string info = absl::StrCat(key_id, absl::string_view("\0", 1), tenant);
  std::string key(kKeyBytes, '\0');
  std::size_t len = key.size();
  if (ctx == nullptr || EVP_PKEY_derive_init(ctx.get()) <= 0 ||
      EVP_PKEY_CTX_set_hkdf_md(ctx.get(), EVP_sha256()) <= 0 ||
      EVP_PKEY_CTX_set1_hkdf_salt(ctx.get(), reinterpret_cast<const unsigned char*>(kSalt.data()),
                                  static_cast<int>(kSalt.size())) <= 0 ||
      EVP_PKEY_CTX_set1_hkdf_key(ctx.get(), reinterpret_cast<const unsigned char*>(master.data()),
                                 static_cast<int>(master.size())) <= 0 ||
      EVP_PKEY_CTX_add1_hkdf_info(ctx.get(), reinterpret_cast<const unsigned char*>(info.data()),
                                  static_cast<int>(info.size())) <= 0 ||
      EVP_PKEY_derive(ctx.get(), reinterpret_cast<unsigned char*>(key.data()), &len) <= 0 ||
      len != kKeyBytes) {
    return absl::InternalError("profile cipher: HKDF-SHA256 key derivation failed");
  }
  return key;
}

absl::StatusOr<std::string> ProfileCipher::Seal(absl::string_view tenant, absl::string_view context,
                                                absl::string_view plaintext) const {
  if (plaintext.size() > kMaxSealedPlaintextBytes) {
    return absl::ResourceExhaustedError(absl::StrCat("profile cipher: ", plaintext.size(),
                                                     " bytes to seal (limit ",
                                                     kMaxSealedPlaintextBytes, ")"));
  }
  absl::StatusOr<std::string> key =
      DeriveKey(masters_.at(current_key_id_), current_key_id_, tenant);
  if (!key.ok()) return key.status();
  std::string out;
  const std::size_t header = kMagic.size() + 1 + current_key_id_.size();
  out.resize(header + kNonceBytes + plaintext.size() + kTagBytes);
  out.replace(0, kMagic.size(), kMagic.data(), kMagic.size());
  out[kMagic.size()] = static_cast<char>(current_key_id_.size());
  out.replace(kMagic.size() + 1, current_key_id_.size(), current_key_id_);
  auto* nonce = reinterpret_cast<unsigned char*>(out.data() + header);
  if (RAND_bytes(nonce, kNonceBytes) != 1) {
    return absl::InternalError("profile cipher: RAND_bytes failed");
  }
  const std::string aad = Aad(tenant, context);
  std::unique_ptr<EVP_CIPHER_CTX, CtxFree> ctx(EVP_CIPHER_CTX_new());
  auto* ct = reinterpret_cast<unsigned char*>(out.data() + header + kNonceBytes);
  int n = 0, fin = 0;
  if (ctx == nullptr ||
      EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr,
                         reinterpret_cast<const unsigned char*>(key->data()), nonce) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &n, reinterpret_cast<const unsigned char*>(aad.data()),
                        static_cast<int>(aad.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), ct, &n, reinterpret_cast<const unsigned char*>(plaintext.data()),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), ct + n, &fin) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes,
                          out.data() + out.size() - kTagBytes) != 1) {
    return absl::InternalError("profile cipher: AES-256-GCM encryption failed");
  }
  return out;
}

absl::StatusOr<std::string> ProfileCipher::Open(absl::string_view tenant, absl::string_view context,
                                                absl::string_view envelope) const {
  absl::StatusOr<Parsed> p = Parse(envelope);
  if (!p.ok()) return p.status();
  auto master = masters_.find(std::string(p->key_id));
  if (master == masters_.end()) {
    return absl::FailedPreconditionError(
        absl::StrCat("sealed blob uses key id ", p->key_id,
                     ", which is neither profile_key_id nor in profile_retired_keys"));
  }
  absl::StatusOr<std::string> key = DeriveKey(master->second, p->key_id, tenant);
  if (!key.ok()) return key.status();
  const std::string aad = Aad(tenant, context);
  std::string out(p->ciphertext.size(), '\0');
  std::string tag(p->tag);
  std::unique_ptr<EVP_CIPHER_CTX, CtxFree> ctx(EVP_CIPHER_CTX_new());
  int n = 0, fin = 0;
  if (ctx == nullptr ||
      EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr,
                         reinterpret_cast<const unsigned char*>(key->data()),
                         reinterpret_cast<const unsigned char*>(p->nonce.data())) != 1 ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &n, reinterpret_cast<const unsigned char*>(aad.data()),
                        static_cast<int>(aad.size())) != 1 ||
      EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &n,
                        reinterpret_cast<const unsigned char*>(p->ciphertext.data()),
                        static_cast<int>(p->ciphertext.size())) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes, tag.data()) != 1) {
    return absl::InternalError("profile cipher: AES-256-GCM decryption setup failed");
  }
  if (EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()) + n, &fin) != 1) {
    return absl::DataLossError(absl::StrCat("sealed blob (key id ", p->key_id,
                                            "): authentication failed (wrong key, tenant or "
                                            "row, or the bytes were altered)"));
  }
  return out;
}

absl::StatusOr<std::string> ProfileCipher::KeyIdOf(absl::string_view envelope) {
  absl::StatusOr<Parsed> p = Parse(envelope);
  if (!p.ok()) return p.status();
  return std::string(p->key_id);
}

}  // namespace shieldx::contauth
