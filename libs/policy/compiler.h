// Internal: the compiler (parser + type checker + resolver) from source text to a Program.
#ifndef SHIELDX_LIBS_POLICY_COMPILER_H_
#define SHIELDX_LIBS_POLICY_COMPILER_H_

#include <string_view>

#include "absl/status/status.h"
#include "libs/policy/policy.h"
#include "libs/policy/program.h"

namespace shieldx::policy::internal {

// Fills `program` from `source`, or returns the first error with its position.
absl::Status CompileProgram(std::string_view source, const CompileOptions& options,
                            Program* program);

}  // namespace shieldx::policy::internal

#endif  // SHIELDX_LIBS_POLICY_COMPILER_H_
