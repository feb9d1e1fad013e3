import Foundation
import SNNCDriver
import SNNCIR
import SNNCReference
import Testing

@Suite struct SimulateCommandTests {
    @Test func jsonHasTheRequiredKeysAndTheSVGIsWritten() throws {
        let svg = NSTemporaryDirectory() + "snnc-acc-\(UUID().uuidString).svg"
        var o = Simulate.Options(modelPath: repoRoot + "/Examples/iris/model.json", dataPath: repoRoot + "/Examples/iris/test.csv")
        o.json = true
        o.svgPath = svg
        o.progress = false
        let r = Simulate.run(o)
        #expect(r.status == .success, "\(r.stderr)")
        let obj = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        for key in ["ann_accuracy", "snn_accuracy", "firing_rate_hz", "matching_time_ms", "accuracy_std_after_mt", "spikes_per_layer", "accuracy_curve"] {
            #expect(obj[key] != nil, "missing \(key)")
        }
        #expect((obj["accuracy_curve"] as! [Double]).count == 500)
        #expect(obj["images"] as? Int == 30)
        let picture = try String(contentsOfFile: svg, encoding: .utf8)
        #expect(picture.hasPrefix("<svg") && picture.contains("MT ") && picture.contains("ANN "))
    }

    /// `--ann-only --logits FILE`: one CSV row per sample, the per-image evaluator's readout
    /// inputs (BLAS batches give the same values to rounding), whose argmax is the ANN class
    /// the accuracy counts. The exporters' check modes compare these with PyTorch's.
    @Test func annLogitsAreWrittenPerSample() throws {
        let path = NSTemporaryDirectory() + "snnc-logits-\(UUID().uuidString).csv"
        defer { try? FileManager.default.removeItem(atPath: path) }
        var o = Simulate.Options(modelPath: repoRoot + "/Examples/mnist-relu/model.json", dataPath: repoRoot + "/Examples/mnist-relu/test-data.json")
        o.annOnly = true
        o.logitsPath = path
        o.limit = 40
        o.json = true
        let r = Simulate.run(o)
        #expect(r.status == .success, "\(r.stderr)")
        let rows = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",").map { Double($0)! } }
        #expect(rows.count == 40 && rows.allSatisfy { $0.count == 10 })
        let run = try Simulate.start(modelPath: o.modelPath, dataPath: o.dataPath, limit: 40, threads: 1).get()
        var correct = 0
        for (i, x) in run.data.samples.enumerated() {
            let (label, out) = run.network.prepared.classify(x)
            #expect(argmax(rows[i]) == label, "sample \(i)")
            for (a, b) in zip(rows[i], out) { #expect(abs(a - b) <= 1e-9 * max(1, abs(b)), "sample \(i)") }
            if label == run.data.labels[i] { correct += 1 }
        }
        let obj = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        #expect(obj["ann_correct"] as? Int == correct)
    }

    @Test func dataThatDoesNotFitTheModelIsRefused() {
        // SONAR samples (60 features) into the IRIS model (4 inputs).
        let o = Simulate.Options(modelPath: repoRoot + "/Examples/iris/model.json", dataPath: repoRoot + "/Examples/sonar/test.csv")
        let r = Simulate.run(o)
        #expect(r.status == .badInput)
        #expect(r.stderr.contains("error[data-shape]"))
    }

    @Test func sweepFindsTheLowestMatchingRate() throws {
        var o = Sweep.Options(modelPath: repoRoot + "/Examples/iris/model.json", dataPath: repoRoot + "/Examples/iris/all.csv", theta0s: [0.1, 0.2, 1.0])
        o.json = true
        o.simulation.durationMs = 300
        let r = Sweep.run(o)
        let obj = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        let points = obj["points"] as! [[String: Any]]
        let rates = points.map { $0["firing_rate_hz"] as! Double }
        #expect(rates[0] > rates[1] && rates[1] > rates[2])  // a higher threshold fires less
        let best = obj["lowest_fr_matching_theta0"] as? Double
        #expect(best != nil)
        let ann = obj["ann_accuracy"] as! Double
        for p in points where (p["theta0"] as! Double) == best { #expect((p["snn_accuracy"] as! Double) >= ann) }
    }

    @Test func transferTableAndCurve() throws {
        let svg = NSTemporaryDirectory() + "snnc-tf-\(UUID().uuidString).svg"
        var o = Transfer.Options(check: TransferCheck(theta0: 0.1, mf: 0.1), grid: Transfer.grid(from: 0.5, to: 1, steps: 1))
        o.svgPath = svg
        let r = Transfer.run(o)
        #expect(r.stdout.contains("h 0.124427"))
        #expect(r.stdout.contains("1.0000  1.00000"))  // f(1) = 1
        #expect(try String(contentsOfFile: svg, encoding: .utf8).contains("<polyline"))
    }
}
