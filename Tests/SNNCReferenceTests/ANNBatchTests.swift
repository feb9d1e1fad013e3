import Foundation
import SNNCIR
import SNNCReference
import Testing

/// The batched ANN (BLAS) against the per-image evaluator it replaces for ANN accuracy: the same
/// class for every sample, and the same classes on 1 and 2 threads.
@Suite struct ANNBatchTests {
    static let cases: [(model: String, data: String, limit: Int)] = [
        ("iris", "all.csv", 150), ("iris-relu", "all.csv", 150), ("sonar", "all.csv", 208),
        ("mnist", "test-data.json", 300), ("mnist-relu", "test-data.json", 300),
        ("fashion-mnist", "test-data.json", 300), ("fashion-mnist-relu", "test-data.json", 300),
    ]

    @Test(arguments: cases.map(\.model))
    func sameClassesAsThePerImageEvaluator(name: String) throws {
        let c = try #require(Self.cases.first { $0.model == name })
        let r = ModelLoader.load(path: repoRoot + "/Examples/\(name)/model.json")
        let model = try #require(r.model, "\(r.diagnostics)")
        let data = try DataLoader.load(path: repoRoot + "/Examples/\(name)/\(c.data)").get()
        let samples = Array(data.samples.prefix(c.limit))
        #expect(samples.count == c.limit)
        let pm = PreparedModel(model)
        let one = samples.map { pm.classify($0).label }
        let batched = BatchedANN(pm)
        let b1 = batched.classify(samples, threads: 1), b2 = batched.classify(samples, threads: 2)
        #expect(b1 == one, "\(name): \(zip(b1, one).filter { $0 != $1 }.count) classes differ")
        #expect(b2 == b1)
        // Not a constant answer: the classes track the labels.
        let correct = zip(b1, data.labels).filter { $0 == $1 }.count
        #expect(Double(correct) / Double(samples.count) > 0.85, "\(name): \(correct)/\(samples.count)")
    }
}
