// ProfileCipher: AES-256-GCM encryption of everything contauth stores about a user (profiles,
// session state), with a key per tenant and key ids for rotation.
//
// Keys: key(tenant, key_id) = HKDF-SHA256(ikm = master secret of key_id,
//                                         salt = "shieldx-contauth-profile-v1",
//                                         info = key_id "\0" tenant)  -> 32 bytes.
// The current master (config secret `profile_master_key`, id `profile_key_id`) seals new data;
// retired masters (`profile_retired_keys`, "id:secret,...") only open old data. Rotation: set a
// new id + secret, move the old pair to the retired list; rows are re-sealed with the current
// key whenever they are next written (and GetProfileSummary reports which key a profile uses).
//
// Envelope: "SXE1" | u8 key_id length | key_id | 12-byte random nonce | ciphertext | 16-byte tag.
// The associated data binds a ciphertext to its tenant and row ("profile:<user>",
// "session:<session>"): a blob copied to another user or tenant fails to open.
//
// Thread-safety: immutable after Create; Seal / Open are thread-safe (OpenSSL EVP contexts are
// per call).
#ifndef SHIELDX_SERVICES_CONTAUTH_PROFILE_CIPHER_H_
#define SHIELDX_SERVICES_CONTAUTH_PROFILE_CIPHER_H_

#include <cstddef>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace shieldx::contauth {

inline constexpr std::size_t kMinMasterKeyBytes = 32;
inline constexpr std::size_t kMaxMasterKeyBytes = 1024;
inline constexpr std::size_t kMaxKeyIdBytes = 32;
inline constexpr std::size_t kMaxRetiredKeys = 16;
// Largest plaintext sealed (a full profile is well below: kMaxProfileBytes + context).
inline constexpr std::size_t kMaxSealedPlaintextBytes = 8 * 1024 * 1024;

class ProfileCipher {
 public:
  // InvalidArgument naming the problem: key id not [A-Za-z0-9._-]{1,32}, a master shorter
  // than 32 or longer than 1024 bytes, a retired id equal to the current one, too many.
  static absl::StatusOr<ProfileCipher> Create(std::string current_key_id,
                                              std::string current_master,
                                              std::map<std::string, std::string> retired = {});
  // Parses "id:secret,id:secret" (the retired-keys config secret). Empty → none.
  static absl::StatusOr<std::map<std::string, std::string>> ParseRetiredKeys(
      absl::string_view text);

  const std::string& current_key_id() const { return current_key_id_; }

  // Encrypts with the tenant's current key. `context` names the row (associated data).
  absl::StatusOr<std::string> Seal(absl::string_view tenant, absl::string_view context,
                                   absl::string_view plaintext) const;
  // Decrypts an envelope. InvalidArgument for a malformed envelope; FailedPrecondition naming
  // the key id when it is neither current nor retired; DataLoss when authentication fails
  // (wrong key, wrong tenant or row, tampered bytes).
  absl::StatusOr<std::string> Open(absl::string_view tenant, absl::string_view context,
                                   absl::string_view envelope) const;
  // The key id an envelope was sealed with (InvalidArgument when malformed).
  static absl::StatusOr<std::string> KeyIdOf(absl::string_view envelope);

 private:
  ProfileCipher() = default;
  absl::StatusOr<std::string> DeriveKey(const std::string& master, absl::string_view key_id,
                                        absl::string_view tenant) const;

  std::string current_key_id_;
  std::map<std::string, std::string> masters_;  // key id -> master secret (current + retired)
};

}  // namespace shieldx::contauth

#endif  // SHIELDX_SERVICES_CONTAUTH_PROFILE_CIPHER_H_
