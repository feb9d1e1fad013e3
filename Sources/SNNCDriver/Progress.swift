// A progress bar on stderr, drawn only when stderr is a terminal (never in CI logs or pipes).
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

public final class ProgressBar: Sendable {
    let total: Int
    let label: String
    let enabled: Bool
    let start: Double
    let last = Mutex<Double>(0)

    public init(total: Int, label: String, enabled: Bool = isatty(2) != 0) {
        self.total = total
        self.label = label
        self.enabled = enabled && total > 0
        start = monotonicSeconds()
    }

    public func update(_ done: Int) {
        guard enabled else { return }
        let now = monotonicSeconds()
        let draw = last.withLock { t -> Bool in
            if done < total && now - t < 0.1 { return false }
            t = now
            return true
        }
        guard draw else { return }
        let width = 30
        let filled = total > 0 ? done * width / total : width
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let elapsed = now - start
        let eta = done > 0 ? elapsed / Double(done) * Double(total - done) : 0
        let line = "\r\(label) [\(bar)] \(done)/\(total)  \(fmt(elapsed, 1)) s, ~\(fmt(eta, 0)) s left "
        _ = line.withCString { write(2, $0, strlen($0)) }
        if done >= total { _ = "\n".withCString { write(2, $0, 1) } }
    }
}

public func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}
