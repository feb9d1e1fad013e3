// Measured state ranges (`snnc compile --calibrate`): the float reference records, per ASN layer
// and per sample, the largest magnitude of each state register the chip stores; the compiler
// sizes the layer's state LSB from a percentile of those maxima times a margin
// (Docs/quantization.md, "Calibrated ranges").

/// The largest magnitudes one layer's registers reach, in real units: the current I, the
/// activation S (S_dyn, the register step 2 saturates), the refractory Ŝ and the threshold ϑ.
public struct StateRange: Sendable, Equatable {
    public var current = 0.0, activation = 0.0, refractory = 0.0, threshold = 0.0
    public init(current: Double = 0, activation: Double = 0, refractory: Double = 0, threshold: Double = 0) {
        self.current = current
        self.activation = activation
        self.refractory = refractory
        self.threshold = threshold
    }

    /// Registers in a fixed order (for percentiles over samples, tables and JSON).
    public static let registers = ["I", "S", "Ŝ", "ϑ"]
    public var values: [Double] { [current, activation, refractory, threshold] }
    public init(values v: [Double]) { self.init(current: v[0], activation: v[1], refractory: v[2], threshold: v[3]) }

    /// Per register, the `percentile` (0 < p ≤ 100, nearest rank) of per-sample maxima.
    public static func percentile(_ samples: [StateRange], _ p: Double) -> StateRange {
        guard !samples.isEmpty else { return StateRange() }
        let rank = min(samples.count, max(1, Int((p / 100 * Double(samples.count)).rounded(.up))))
        return StateRange(values: (0..<4).map { r in samples.map { $0.values[r] }.sorted()[rank - 1] })
    }
}

/// What `--calibrate` measured: per ASN layer (model node name) the chosen ranges, how many
/// samples they came from, the percentile and the margin applied on top.
public struct Calibration: Sendable {
    public var data: String
    public var samples: Int
    public var percentile: Double
    public var margin: Double
    public var ranges: [String: StateRange]
    public init(data: String, samples: Int, percentile: Double, margin: Double, ranges: [String: StateRange]) {
        self.data = data
        self.samples = samples
        self.percentile = percentile
        self.margin = margin
        self.ranges = ranges
    }
    /// Percentile and margin when the command line gives none.
    public static let defaultPercentile = 100.0
    public static let defaultMargin = 2.0
}
