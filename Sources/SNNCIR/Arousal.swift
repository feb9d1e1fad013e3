// Arousal, the paper's attention mechanism, as a run-time policy shared by the float reference,
// the emulator and the driver.
/// The paper's arousal (Methods, Table SI4): the network runs at the low-precision ϑ0_lp; from
/// t_sa the gap between the highest and second-highest readout values is summed over
/// `windowMs` steps; if the sum does not exceed θ_A, the whole network switches to ϑ0_hp (m_f
/// and h with it) for the rest of the input. θ_A = p1·t + p2 at the decision time
/// t = t_sa + window in absolute ms (Docs/neuron-model.md says why absolute).
public struct Arousal: Sendable, Equatable {
    public var startMs: Int
    public var windowMs: Int
    public var theta0Low: Double, theta0High: Double
    public var p1: Double, p2: Double

    public init(startMs: Int, windowMs: Int = 50, theta0Low: Double, theta0High: Double, p1: Double, p2: Double) {
        self.startMs = startMs
        self.windowMs = windowMs
        self.theta0Low = theta0Low
        self.theta0High = theta0High
        self.p1 = p1
        self.p2 = p2
    }

    /// The decision step: the last step of the window.
    public var decisionStep: Int { startMs + windowMs - 1 }
    /// θ_A at the decision.
    public var threshold: Double { p1 * Double(startMs + windowMs) + p2 }

    /// Table SI4 of the paper, by data set.
    public static let paper: [String: Arousal] = [
        "iris": Arousal(startMs: 150, theta0Low: 0.80, theta0High: 0.17, p1: 2.1864, p2: -342.2727),
        "sonar": Arousal(startMs: 150, theta0Low: 1.30, theta0High: 0.35, p1: 3.7591, p2: -525.0),
        "mnist": Arousal(startMs: 200, theta0Low: 0.60, theta0High: 0.12, p1: 2.1121, p2: -405.7576),
        "cifar10": Arousal(startMs: 250, theta0Low: 0.15, theta0High: 0.05, p1: 7.7262, p2: -1870),
        "cifar100": Arousal(startMs: 350, theta0Low: 0.10, theta0High: 0.03, p1: 7.0, p2: -2420),
        "ilsvrc2012": Arousal(startMs: 350, theta0Low: 0.15, theta0High: 0.05, p1: 2.5536, p2: -895.1786),
    ]

    /// The gap between the largest and the second-largest value.
    @inline(__always)
    public static func gap(_ v: [Double]) -> Double {
        var a = -Double.infinity, b = -Double.infinity
        for x in v {
            if x > a { b = a; a = x } else if x > b { b = x }
        }
        return v.count < 2 ? 0 : a - b
    }
}
