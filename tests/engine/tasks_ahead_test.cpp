// Tests of engine/tasks_ahead.cpp: each task runs exactly once, on the worker or on the caller that needs it
// first; its result is visible once wait_for returns; a task's exception reaches the caller of that task only;
// destruction stops the worker without running the rest.
#include "engine/tasks_ahead.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <new>
#include <stdexcept>
#include <thread>
#include <vector>

namespace raccord::testing {
namespace {

TEST(TasksAheadTest, EachTaskRunsOnceAndItsResultIsSeenInAnyOrderOfTaking) {
  for (const bool worker : {false, true}) {
    constexpr std::size_t kCount = 500;
    std::vector<int> slots(kCount, -1);
    std::vector<std::atomic<int>> runs(kCount);
    {
      TasksAhead tasks(
          kCount,
          [&](std::size_t i) {
            ++runs[i];
            slots[i] = static_cast<int>(i * i % 9973);
          },
          worker);
      for (std::size_t k = 0; k < kCount; ++k) {
        const std::size_t i = (k * 7) % kCount;  // not in the worker's order
        tasks.wait_for(i);
        EXPECT_EQ(slots[i], static_cast<int>(i * i % 9973)) << i;
      }
      for (std::size_t i = 0; i < kCount; ++i) tasks.wait_for(i);  // again: nothing runs twice
    }
    for (std::size_t i = 0; i < kCount; ++i) EXPECT_EQ(runs[i], 1) << i << (worker ? " worker" : " caller");
  }
}

TEST(TasksAheadTest, WithoutAWorkerEveryTaskRunsOnTheCallerWhenTaken) {
  const std::thread::id caller = std::this_thread::get_id();
  std::vector<std::thread::id> ran(3);
  TasksAhead tasks(
      3, [&](std::size_t i) { ran[i] = std::this_thread::get_id(); }, false);
  tasks.wait_for(2);
  EXPECT_EQ(ran[2], caller);
  EXPECT_EQ(ran[0], std::thread::id());  // not taken yet: not run
  tasks.wait_for(0);
  EXPECT_EQ(ran[0], caller);
}

TEST(TasksAheadTest, TheWorkerRunsTasksAheadOfTheCallerInOrder) {
  std::mutex m;
  std::condition_variable cv;
  std::vector<std::size_t> order;
  std::vector<std::thread::id> ran(4);
  TasksAhead tasks(
      4,
      [&](std::size_t i) {
        ran[i] = std::this_thread::get_id();
        std::lock_guard lock(m);
        order.push_back(i);
        cv.notify_all();
      },
      true);
  {
    std::unique_lock lock(m);  // the caller takes nothing: the worker alone runs them all
    cv.wait(lock, [&] { return order.size() == 4; });
  }
  EXPECT_EQ(order, (std::vector<std::size_t>{0, 1, 2, 3}));
  for (std::size_t i = 0; i < 4; ++i) {
    tasks.wait_for(i);
    EXPECT_NE(ran[i], std::this_thread::get_id()) << i;
  }
}

TEST(TasksAheadTest, WhileTheWorkerRunsTheTaskItWaitsForTheCallerRunsTheNextOnes) {
  constexpr std::size_t kCount = 6;
  std::mutex m;
  std::condition_variable cv;
  bool started = false;
  bool release = false;
  std::size_t others_done = 0;
  std::vector<std::thread::id> ran(kCount);
  TasksAhead tasks(
      kCount,
      [&](std::size_t i) {
        ran[i] = std::this_thread::get_id();
        std::unique_lock lock(m);
        if (i == 0) {  // the worker's first: held until every other task is done
          started = true;
          cv.notify_all();
          cv.wait(lock, [&] { return release; });
        } else {
          ++others_done;
          cv.notify_all();
        }
      },
      true);
  {
    std::unique_lock lock(m);
    cv.wait(lock, [&] { return started; });
  }
  std::thread releaser([&] {
    std::unique_lock lock(m);
    cv.wait(lock, [&] { return others_done == kCount - 1; });
    release = true;
    cv.notify_all();
  });
  tasks.wait_for(0);  // run by the worker; the caller runs 1 … 5 meanwhile
  releaser.join();
  EXPECT_NE(ran[0], std::this_thread::get_id());
  for (std::size_t i = 1; i < kCount; ++i) EXPECT_EQ(ran[i], std::this_thread::get_id()) << i;
}

TEST(TasksAheadTest, ATasksFailureIsRethrownToItsTakerOnlyAndTheOthersStillRun) {
  for (const bool worker : {false, true}) {
    std::vector<int> slots(3, 0);
    TasksAhead tasks(
        3,
        [&](std::size_t i) {
          if (i == 1) throw std::bad_alloc();
          slots[i] = 1;
        },
        worker);
    tasks.wait_for(0);
    EXPECT_THROW(tasks.wait_for(1), std::bad_alloc);
    EXPECT_THROW(tasks.wait_for(1), std::bad_alloc);  // each time
    EXPECT_NO_THROW(tasks.wait_for(2));
    EXPECT_EQ(slots, (std::vector<int>{1, 0, 1}));
  }
  TasksAhead none(
      1, [](std::size_t) {}, true);
  EXPECT_THROW(none.wait_for(1), std::out_of_range);
}

TEST(TasksAheadTest, DestroyingWaitsForTheTaskUnderWayAndNothingRunsAfterwards) {
  std::mutex m;
  std::condition_variable cv;
  bool started = false;
  bool release = false;
  std::atomic<bool> first_done{false};
  std::atomic<int> runs{0};
  std::thread releaser;
  {
    TasksAhead tasks(
        1000,
        [&](std::size_t i) {
          ++runs;
          if (i != 0) return;
          std::unique_lock lock(m);
          started = true;
          cv.notify_all();
          cv.wait(lock, [&] { return release; });
          first_done = true;
        },
        true);
    {
      std::unique_lock lock(m);
      cv.wait(lock, [&] { return started; });
    }
    releaser = std::thread([&] {  // task 0 ends whether or not the destructor below is entered yet
      std::lock_guard lock(m);
      release = true;
      cv.notify_all();
    });
  }
  EXPECT_TRUE(first_done);  // the destructor returned after the task under way ended
  releaser.join();
  const int after = runs;
  std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(runs, after);  // joined: nothing runs any more
  EXPECT_GE(after, 1);
}

}  // namespace
}  // namespace raccord::testing
