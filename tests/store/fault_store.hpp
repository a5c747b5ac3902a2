// SPDX-License-Identifier: Apache-2.0
// tests/store/fault_store.hpp - a CaseStore that fails on purpose (as leveldb's fault-injection
// Env does): it wraps a real store and makes chosen commits fail before writing, fail after
// writing (the write happened, the caller is told it did not), lose the acknowledgement of a
// whole batch, or stall until released. Everything else is the wrapped store's own behaviour.
#pragma once

#include <acm/error.hpp>
#include <acm/store.hpp>

#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace acm::test {

class FaultStore final : public CaseStore {
 public:
  enum class Fault {
    none,
    fail_before,  ///< Error(storage), nothing written
    fail_after,   ///< written, then Error(storage) to the caller
    lost_batch,   ///< a batch: every commit written, then PendingBatch::wait() throws
    stall,        ///< waits until release(), then writes normally
  };

  explicit FaultStore(std::shared_ptr<CaseStore> inner) : inner_(std::move(inner)) {}

  /// Arms `fault` for one commit: the one `skip` commits from now (commits inside batches
  /// count one each; lost_batch hits the batch holding that commit).
  void arm(Fault fault, std::size_t skip = 0) {
    std::lock_guard lk(mutex_);
    fault_ = fault;
    at_ = seen_ + skip;
  }
  void disarm() {
    std::lock_guard lk(mutex_);
    fault_ = Fault::none;
  }
  /// How many times an armed fault has fired.
  std::size_t fired() const {
    std::lock_guard lk(mutex_);
    return fired_;
  }
  /// Waits until a commit is stalled.
  void wait_stalled() {
    std::unique_lock lk(mutex_);
    cv_.wait(lk, [&] { return stalled_; });
  }
  /// Lets a stalled commit go on.
  void release() {
    std::lock_guard lk(mutex_);
    released_ = true;
    cv_.notify_all();
  }
  CaseStore& inner() { return *inner_; }

  StoreTraits traits() const noexcept override { return inner_->traits(); }
  std::vector<DefinitionRecord> load_definitions() override { return inner_->load_definitions(); }
  void save_definitions(const std::vector<DefinitionRecord>& d) override { inner_->save_definitions(d); }

  void commit(CaseCommit c) override {
    switch (take()) {
      case Fault::fail_before:
        throw Error(ErrorCode::storage, "injected fault: the commit failed before writing");
      case Fault::fail_after:
        inner_->commit(std::move(c));
        throw Error(ErrorCode::storage, "injected fault: the commit was written, then failed");
      case Fault::stall:
        stall();
        break;
      default:
        break;
    }
    inner_->commit(std::move(c));
  }

  std::unique_ptr<PendingBatch> submit_batch(std::vector<CaseCommit> commits) override {
    std::vector<Fault> faults;
    for (std::size_t i = 0; i < commits.size(); ++i) faults.push_back(take());
    std::vector<CaseCommit> pass;
    std::vector<std::size_t> where;  // position in `commits` of each passed commit
    bool lost = false;
    for (std::size_t i = 0; i < commits.size(); ++i) {
      if (faults[i] == Fault::stall) stall();
      if (faults[i] == Fault::lost_batch) lost = true;
      if (faults[i] == Fault::fail_before) continue;
      pass.push_back(std::move(commits[i]));
      where.push_back(i);
    }
    auto inner = inner_->submit_batch(std::move(pass));
    return std::make_unique<Batch>(std::move(inner), std::move(faults), std::move(where), lost);
  }

  void load_cases(const std::vector<std::string>& ids,
                  const std::function<void(std::size_t, std::optional<LoadedCase>)>& each) override {
    inner_->load_cases(ids, each);
  }
  std::optional<std::vector<Event>> load_events(const std::string& id, std::uint64_t from) override {
    return inner_->load_events(id, from);
  }
  std::vector<std::string> case_ids(std::size_t limit, const std::string& after) override {
    return inner_->case_ids(limit, after);
  }
  std::uint64_t case_count() override { return inner_->case_count(); }
  std::vector<DueCase> due_cases(TimePoint until, std::size_t limit, const std::optional<DueCase>& after) override {
    return inner_->due_cases(until, limit, after);
  }
  CasePage find_cases(const CaseQuery& q) override { return inner_->find_cases(q); }
  QueuePage work_items(const QueueFilter& f, bool with_total) override { return inner_->work_items(f, with_total); }
  void rebuild_work_items(const std::function<std::optional<std::vector<WorkItem>>(const std::string&)>& w) override {
    inner_->rebuild_work_items(w);
  }
  std::optional<Json> idempotent_result(const std::string& key) override { return inner_->idempotent_result(key); }
  TemplateStore* templates() noexcept override { return inner_->templates(); }
  IntakeLogStore* intake_log() noexcept override { return inner_->intake_log(); }

 private:
  class Batch final : public PendingBatch {
   public:
    Batch(std::unique_ptr<PendingBatch> inner, std::vector<Fault> faults, std::vector<std::size_t> where, bool lost)
        : inner_(std::move(inner)), faults_(std::move(faults)), where_(std::move(where)), lost_(lost) {}
    std::vector<std::exception_ptr> wait() override {
      auto written = inner_->wait();
      if (lost_) throw Error(ErrorCode::storage, "injected fault: the batch was written, its acknowledgement lost");
      std::vector<std::exception_ptr> out(faults_.size());
      for (std::size_t j = 0; j < where_.size(); ++j) out[where_[j]] = written[j];
      for (std::size_t i = 0; i < faults_.size(); ++i) {
        if (faults_[i] == Fault::fail_before)
          out[i] = std::make_exception_ptr(Error(ErrorCode::storage, "injected fault: the commit failed before writing"));
        if (faults_[i] == Fault::fail_after && !out[i])
          out[i] = std::make_exception_ptr(Error(ErrorCode::storage, "injected fault: the commit was written, then failed"));
      }
      return out;
    }

   private:
    std::unique_ptr<PendingBatch> inner_;
    std::vector<Fault> faults_;
    std::vector<std::size_t> where_;
    bool lost_;
  };

  /// The fault for the next commit (counting it).
  Fault take() {
    std::lock_guard lk(mutex_);
    const std::size_t n = seen_++;
    if (fault_ == Fault::none || n != at_) return Fault::none;
    Fault f = fault_;
    fault_ = Fault::none;
    ++fired_;
    return f;
  }

  void stall() {
    std::unique_lock lk(mutex_);
    stalled_ = true;
    cv_.notify_all();
    cv_.wait(lk, [&] { return released_; });
    stalled_ = false;
    released_ = false;
  }

  std::shared_ptr<CaseStore> inner_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  Fault fault_ = Fault::none;
  std::size_t seen_ = 0, at_ = 0, fired_ = 0;
  bool stalled_ = false, released_ = false;
};

}  // namespace acm::test
