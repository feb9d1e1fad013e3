// The one worker pool: independent items (images, samples) spread over threads, each worker
// with its own scratch state, results in item order — so any thread count gives the same
// results. Used by the float reference (Simulator.run) and the emulator (Emulator.run).
import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

public enum WorkerPool {
    /// Online processors (at least 1).
    public static func activeCores() -> Int {
        #if canImport(Glibc)
        return max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        #else
        return 1
        #endif
    }

    /// body(i, &state) for every i in 0..<count on `threads` workers (0: every online core);
    /// `progress` gets the number of items finished so far.
    public static func map<State, Result: Sendable>(_ count: Int, threads: Int, progress: (@Sendable (Int) -> Void)? = nil,
                                                      state: () -> State, _ body: (Int, inout State) -> Result) -> [Result] {
        let workers = max(1, min(threads > 0 ? threads : activeCores(), count))
        let results = Mutex([Result?](repeating: nil, count: count))
        let next = Atomic<Int>(0), done = Atomic<Int>(0)
        withoutActuallyEscaping(state) { state in
            withoutActuallyEscaping(body) { body in
                nonisolated(unsafe) let state = state, body = body
                DispatchQueue.concurrentPerform(iterations: workers) { _ in
                    var s = state()
                    while true {
                        let i = next.add(1, ordering: .relaxed).oldValue
                        if i >= count { break }
                        let r = body(i, &s)
                        results.withLock { $0[i] = r }
                        progress?(done.add(1, ordering: .relaxed).newValue)
                    }
                }
            }
        }
        return results.withLock { $0.map { $0! } }
    }

    /// The same without per-worker state.
    public static func map<Result: Sendable>(_ count: Int, threads: Int, progress: (@Sendable (Int) -> Void)? = nil, _ body: (Int) -> Result) -> [Result] {
        map(count, threads: threads, progress: progress, state: { () }) { i, _ in body(i) }
    }
}
