// SPDX-License-Identifier: Apache-2.0
// store/case_store.cpp - the default implementations of acm::CaseStore's batch and helper methods.
#include <acm/error.hpp>
#include <acm/store.hpp>

namespace acm {
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

std::unique_ptr<PendingBatch> CaseStore::submit_batch(std::vector<CaseCommit> commits) {
  std::vector<std::exception_ptr> errors(commits.size());
  for (std::size_t i = 0; i < commits.size(); ++i) {
    try {
      commit(std::move(commits[i]));
    } catch (...) {
      errors[i] = std::current_exception();
    }
  }
  return std::make_unique<WrittenBatch>(std::move(errors));
}

std::vector<std::exception_ptr> CaseStore::commit_batch(std::vector<CaseCommit> commits) {
  return submit_batch(std::move(commits))->wait();
}

std::optional<LoadedCase> CaseStore::load_case(const std::string& id) {
  std::optional<LoadedCase> out;
  load_cases({id}, [&](std::size_t, std::optional<LoadedCase> c) { out = std::move(c); });
  return out;
}

void CaseStore::rebuild_work_items(
    const std::function<std::optional<std::vector<WorkItem>>(const std::string&)>& work_of) {
  (void)work_of;
}

std::vector<FeedEntry> CaseStore::read_feed(const std::string&, std::size_t) {
  throw Error(ErrorCode::invalid_state, "this store keeps no event feed");
}

std::string CaseStore::feed_end() { throw Error(ErrorCode::invalid_state, "this store keeps no event feed"); }

std::unique_ptr<DueClaim> CaseStore::claim_due(TimePoint, std::size_t, const std::optional<DueCase>&) {
  return nullptr;
}

}  // namespace acm
