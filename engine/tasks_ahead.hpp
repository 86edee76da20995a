// Independent tasks computed ahead, in order, by one worker thread while the caller does something else
// (docs/design.md "Reading ahead"): the reading of a group's dépôts (parse, signature verification) while the
// engine answers the group before it.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>

namespace raccord {

/// `count` tasks, task(0) … task(count - 1), each run exactly once: by the worker thread, which takes them
/// in index order from construction on, or by the caller of wait_for() when the worker has not started
/// that one yet (the caller never waits for a task nobody runs; while the worker runs the one it waits for,
/// it runs the next unstarted ones). A task writes its result where the caller
/// said (a slot of its own per index); wait_for(i) returning makes that write visible to the caller.
/// Destroying a TasksAhead stops the worker (a task under way is finished first, no new one starts) and joins
/// it; tasks never run are simply not run.
class TasksAhead {
 public:
  /// `task(i)`: runs task i (any thread; must not touch another task's slot). `worker`: false runs every task
  /// on the caller of wait_for (a group of one dépôt answered at once). Throws std::system_error when the
  /// thread cannot be started.
  TasksAhead(std::size_t count, std::function<void(std::size_t)> task, bool worker);
  /// Stops and joins the worker; never throws.
  ~TasksAhead();
  TasksAhead(const TasksAhead&) = delete;
  TasksAhead& operator=(const TasksAhead&) = delete;

  /// Task `i` (< count) is done when this returns: run now on the caller when nobody started it, else waited
  /// for, the caller running the unstarted tasks after it meanwhile. Rethrows what task i threw (each call for that i
  /// rethrows it). Throws std::out_of_range for i ≥ count.
  void wait_for(std::size_t i);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace raccord
