// SPDX-License-Identifier: Apache-2.0
// store/store.cpp - the default implementations of the Store's batch operations.
#include "store/store.hpp"

namespace acm::store {
namespace {

/// A batch written before submit_batch returned: wait() only hands over the errors.
class WrittenBatch final : public PendingBatch {
 public:
  explicit WrittenBatch(std::vector<std::exception_ptr> errors) : errors_(std::move(errors)) {}
  std::vector<std::exception_ptr> wait() override { return std::move(errors_); }

 private:
  std::vector<std::exception_ptr> errors_;
};

}  // namespace

void Store::commit_batch(std::vector<Commit> commits, std::vector<std::exception_ptr>& errors) {
  errors.assign(commits.size(), nullptr);
  for (std::size_t i = 0; i < commits.size(); ++i) {
    try {
      commit(std::move(commits[i]));
    } catch (...) {
      errors[i] = std::current_exception();
    }
  }
}

std::unique_ptr<PendingBatch> Store::submit_batch(std::vector<Commit> commits) {
  std::vector<std::exception_ptr> errors;
  commit_batch(std::move(commits), errors);
  return std::make_unique<WrittenBatch>(std::move(errors));
}

}  // namespace acm::store
