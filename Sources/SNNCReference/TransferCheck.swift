import SNNCIR
// Simulating one neuron at constant activation S: the check that ties the discrete neuron to
// the transfer function (asn-model.md). The neuron gets S as an injected current; its spikes
// drive a target PSC  I_t = α_β·I_t + payload  (payload h for binary spikes, ϑ(t_s) for graded
// ones); the mean of I_t over the second half of the run is compared with f(S) (binary) or
// with S itself (graded: the ASNN neuron is a ReLU above ϑ0/2).

public struct TransferPoint: Sendable, Equatable {
    public var s: Double
    /// f(S) for binary spikes, S for graded spikes.
    public var expected: Double
    public var meanPSC: Double
    public var rateHz: Double
    /// (meanPSC − expected) / expected; 0 when both are 0, nil when only expected is 0.
    public var relativeError: Double? {
        if expected == 0 { return meanPSC == 0 ? 0 : nil }
        return (meanPSC - expected) / expected
    }
}

public struct TransferCheck: Sendable {
    public var theta0: Double
    public var mf: Double
    public var tauGamma = 15.0, tauEta = 50.0, tauBeta = 50.0, tauPhi = 2.5
    public var h: SpikeHeightChoice = .normalize
    public var graded = false
    public var durationMs = 20_000

    public enum SpikeHeightChoice: Sendable, Equatable { case value(Double), normalize }

    public init(theta0: Double, mf: Double) {
        self.theta0 = theta0
        self.mf = mf
    }

    public var transfer: TransferFunction { TransferFunction(theta0: theta0, mf: mf, tauGamma: tauGamma, tauEta: tauEta) }

    public var spikeHeight: Double {
        switch h {
        case .value(let v): return v
        case .normalize: return transfer.normalizedH
        }
    }

    public func simulate(_ s: Double) -> TransferPoint {
        let k = NeuronConstants(tauBeta: tauBeta, tauPhi: tauPhi, tauEta: tauEta, tauGamma: tauGamma, theta0: theta0, mf: mf)
        let height = spikeHeight
        var neuron = NeuronState(theta0: theta0)
        var target = 0.0
        var sum = 0.0
        var spikes = 0
        let half = durationMs / 2
        for t in 0..<durationMs {
            let payload = Neuron.step(&neuron, input: s, bias: 0, injected: true, k)
            target *= k.alphaBeta
            if let p = payload { target += graded ? p : height }
            if t >= half {
                sum += target
                if payload != nil { spikes += 1 }
            }
        }
        let window = Double(durationMs - half)
        let expected = graded ? (s > theta0 / 2 ? s : 0) : transfer.f(s, h: height)
        // As the Methods define the PSC (eq. 4), unnormalised: a spike of height h adds h.
        let mean = sum / window
        return TransferPoint(s: s, expected: expected, meanPSC: mean, rateHz: Double(spikes) / window * 1000)
    }
}
