import Foundation
import SNNCIR
import SNNCReference
import Testing

let repoRoot: String = directoryOf(directoryOf(directoryOf(#filePath)))

@Suite struct TransferFunctionTests {
    /// Published h values (asn-model.md): f(1) = 1 with τ_γ 15, τ_η 50, ϑ0 = m_f.
    @Test(arguments: [(0.1, 0.124427, 5e-6), (0.05, 0.06356, 5e-5), (0.2, 0.23929, 5e-5)])
    func normalisedHMatchesThePaper(mf: Double, h: Double, tol: Double) {
        let t = TransferFunction(theta0: mf, mf: mf, tauGamma: 15, tauEta: 50)
        #expect(abs(t.normalizedH - h) < tol, "h = \(t.normalizedH)")
        #expect(abs(t.f(1, h: t.normalizedH) - 1) < 1e-12)
    }

    @Test func zeroAtAndBelowHalfThresholdAndJumpsToHOverTwo() {
        let t = TransferFunction(theta0: 0.3, mf: 0.3, tauGamma: 15, tauEta: 50)
        #expect(t.f(0.15, h: 1) == 0)
        #expect(t.f(-1, h: 1) == 0)
        // Just above ϑ0/2 the Methods form is h/2 (the −c0 term cancels the first).
        #expect(abs(t.f(0.15 + 1e-12, h: 1) - 0.5) < 1e-9)
        // Monotone increasing above the threshold.
        var prev = 0.0
        for i in 1...400 {
            let v = t.f(0.15 + Double(i) * 0.01, h: 1)
            #expect(v > prev)
            prev = v
        }
    }
}

@Suite struct TransferCheckTests {
    /// asn-model.md: mean target PSC over the last 10 s of 20 s matches f(S) within 1.5 % for
    /// 3ϑ0 ≤ S ≤ 4 and within 5 % for 1.5ϑ0 ≤ S ≤ 4, for ϑ0 = m_f ∈ {0.1, 0.3, 0.6}.
    @Test(arguments: [0.1, 0.3, 0.6])
    func simulatedPSCMatchesTransferFunction(theta0: Double) {
        let check = TransferCheck(theta0: theta0, mf: theta0)
        var s = 1.5 * theta0
        while s <= 4 + 1e-9 {
            let p = check.simulate(s)
            let err = abs(p.relativeError!)
            let band = s >= 3 * theta0 ? 0.015 : 0.05
            #expect(err <= band, "ϑ0 \(theta0), S \(s): f \(p.expected), PSC \(p.meanPSC), error \(err)")
            s += theta0 * 0.25 + 0.05
        }
    }

    @Test func measuredRatesMatchTheNotes() {
        // ϑ0 = m_f = 0.1: S = 0.5 → 90 Hz, S = 1 → 160 Hz; ϑ0 = m_f = 0.6: S = 1 → 30 Hz.
        let a = TransferCheck(theta0: 0.1, mf: 0.1)
        #expect(abs(a.simulate(0.5).rateHz - 90) <= 3)
        #expect(abs(a.simulate(1).rateHz - 160) <= 3)
        #expect(abs(TransferCheck(theta0: 0.6, mf: 0.6).simulate(1).rateHz - 30) <= 3)
    }

    @Test func justAboveThresholdFallsBelowF() {
        // ϑ0 = 0.6, S = 0.5: about −14 % (asn-model.md).
        let p = TransferCheck(theta0: 0.6, mf: 0.6).simulate(0.5)
        #expect(p.relativeError! < -0.10 && p.relativeError! > -0.18, "\(p.relativeError!)")
    }

    /// Issue 8: graded spikes (payload ϑ(t_s)) make the mean PSC track S within 1 % on [0.25, 4], m_f = 0.1.
    @Test func gradedSpikesTrackS() {
        var check = TransferCheck(theta0: 0.1, mf: 0.1)
        check.graded = true
        for s in [0.25, 0.5, 1, 2, 3, 4] {
            let p = check.simulate(s)
            #expect(abs(p.relativeError!) <= 0.01, "S \(s): PSC \(p.meanPSC)")
        }
        #expect(abs(check.simulate(0.5).rateHz - 90) <= 3)
    }
}

/// The authors' own NumPy neuron (asn-model.md; Fixtures/authors-neuron-traces.json): a float64
/// neuron in the reference order must spike at exactly the same steps.
@Suite struct AuthorsTraceTests {
    struct Trace {
        let params: [String: Double]
        let inputLayer: Bool
        let input: [Double]
        let spikeSteps: [Int]
    }

    static let traces: [Trace] = {
        let data = try! Data(contentsOf: URL(fileURLWithPath: repoRoot + "/Tests/SNNCReferenceTests/Fixtures/authors-neuron-traces.json"))
        let obj = try! JSONSerialization.jsonObject(with: data) as! [String: Any]
        return (obj["traces"] as! [[String: Any]]).map { t in
            var p: [String: Double] = [:]
            for k in ["mf", "theta0", "bias", "tau_phi", "tau_gamma", "tau_eta", "tau_beta"] { p[k] = (t[k] as! NSNumber).doubleValue }
            return Trace(params: p, inputLayer: (t["input_layer"] as? Bool) ?? false,
                         input: (t["input"] as! [NSNumber]).map(\.doubleValue), spikeSteps: (t["spike_steps"] as! [NSNumber]).map(\.intValue))
        }
    }()

    @Test(arguments: 0..<8)
    func spikeStepsMatchExactly(index: Int) {
        let t = Self.traces[index]
        let p = t.params
        let k = NeuronConstants(tauBeta: p["tau_beta"]!, tauPhi: p["tau_phi"]!, tauEta: p["tau_eta"]!, tauGamma: p["tau_gamma"]!,
                                theta0: p["theta0"]!, mf: p["mf"]!)
        var s = NeuronState(theta0: p["theta0"]!)
        var steps: [Int] = []
        for (i, x) in t.input.enumerated() where Neuron.step(&s, input: x, bias: p["bias"]!, injected: t.inputLayer, k) != nil {
            steps.append(i)
        }
        #expect(steps == t.spikeSteps)
        #expect(!steps.isEmpty)
    }
}

/// The simulator steps whole layers with Neuron's column updates (eight neurons at a time, selects
/// for branches); they must give the scalar neuron's values bit for bit, including the tail.
@Suite struct ColumnUpdateTests {
    @Test(arguments: [1, 7, 8, 9, 23, 64])
    func columnsEqualTheScalarNeuron(count: Int) {
        var rng = SystemRandomNumberGenerator()
        let k = NeuronConstants(tauBeta: 50, tauPhi: 2.5, tauEta: 50, tauGamma: 15, theta0: 0.1, mf: 0.1)
        var scalar = [NeuronState](repeating: NeuronState(theta0: 0.1), count: count)
        var current = [Double](repeating: 0, count: count), sDyn = current, sHat = current, thetaDyn = current
        var theta = [Double](repeating: 0.1, count: count), payload = current, bias = current
        var spiked = [UInt8](repeating: 0, count: count)
        for n in 0..<count { bias[n] = Double.random(in: -0.05...0.1, using: &rng) }
        var spikes = 0
        for step in 0..<300 {
            let input = (0..<count).map { _ in Double.random(in: -0.1...0.4, using: &rng) }
            var inputColumn = input
            let injected = step % 2 == 0 && count % 2 == 1  // both paths, on some sizes
            let fired = current.withUnsafeMutableBufferPointer { c in
                sDyn.withUnsafeMutableBufferPointer { sd in
                    inputColumn.withUnsafeMutableBufferPointer { inp in
                        Neuron.integrate(current: c.baseAddress!, sDyn: sd.baseAddress!, input: inp.baseAddress!, count: count, injected: injected, k)
                        return sHat.withUnsafeMutableBufferPointer { sh in
                            thetaDyn.withUnsafeMutableBufferPointer { td in
                                theta.withUnsafeMutableBufferPointer { th in
                                    bias.withUnsafeBufferPointer { b in
                                        spiked.withUnsafeMutableBufferPointer { f in
                                            payload.withUnsafeMutableBufferPointer { p in
                                                Neuron.fire(sHat: sh.baseAddress!, thetaDyn: td.baseAddress!, theta: th.baseAddress!, a: b.baseAddress!,
                                                            b: UnsafePointer(sd.baseAddress!), count: count, k, spiked: f.baseAddress!, payload: p.baseAddress!)
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            var expected = 0
            for n in 0..<count {
                let p = Neuron.step(&scalar[n], input: input[n], bias: bias[n], injected: injected, k)
                expected += p == nil ? 0 : 1
                #expect(spiked[n] == (p == nil ? 0 : 1))
                if let p { #expect(payload[n].bitPattern == p.bitPattern) }
                #expect(current[n].bitPattern == scalar[n].current.bitPattern && sDyn[n].bitPattern == scalar[n].sDyn.bitPattern)
                #expect(sHat[n].bitPattern == scalar[n].sHat.bitPattern && thetaDyn[n].bitPattern == scalar[n].thetaDyn.bitPattern
                        && theta[n].bitPattern == scalar[n].theta.bitPattern)
                if !injected { #expect(inputColumn[n] == 0) }
            }
            #expect(fired == expected)
            spikes += fired
        }
        #expect(spikes > 0)
    }
}
