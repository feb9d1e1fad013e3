// ONNX import on committed files (no Python here): the corpus made with the `onnx` package's
// helpers (Examples/training/make_onnx_corpus.py) — models snnc must read, whose ANN outputs
// must equal onnxruntime's, and malformed or unsupported ones it must refuse with the named
// diagnostic, never a trap — and the ResNet-8 example exported both by snnc_train and by
// torch.onnx.export.
import Foundation
import SNNCImport
import SNNCIR
import SNNCJSON
import SNNCReference
import Testing

private let here = String(#filePath).split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
private let corpus = here + "/Corpus"
private let examples = here + "/../../Examples"

struct ONNXCase: Sendable, CustomTestStringConvertible {
    var file: String
    var accepted: Bool
    var firstID: String?
    var testDescription: String { file }
}

private func corpusCases() -> [ONNXCase] {
    guard let b = try? readWholeFile(corpus + "/EXPECTED.tsv", limit: 1 << 20) else { return [] }
    return String(decoding: b, as: UTF8.self).split(separator: "\n").filter { !$0.hasPrefix("#") }.compactMap { line in
        let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        guard f.count >= 2 else { return nil }
        return ONNXCase(file: f[0], accepted: f[1] == "accepted", firstID: f.count > 2 && !f[2].isEmpty ? f[2] : nil)
    }
}

@Suite struct ONNXImportTests {
    @Test func corpusIsThere() {
        let cases = corpusCases()
        #expect(cases.filter(\.accepted).count >= 11)
        #expect(cases.filter { !$0.accepted }.count >= 28)
    }

    @Test(arguments: corpusCases())
    func eachCorpusFileGivesItsOutcome(_ c: ONNXCase) {
        let r = ModelFiles.load(path: corpus + "/" + c.file)
        #expect((r.model != nil) == c.accepted, "\(c.file): \(r.diagnostics.map(\.description))")
        if let id = c.firstID {
            #expect(r.diagnostics.first?.id.rawValue == id, "\(c.file): \(r.diagnostics.map(\.description))")
        }
        if !c.accepted {
            #expect(r.diagnostics.contains { $0.severity == .error })
        }
    }

    /// snnc's ANN (float64) on onnxruntime's input gives onnxruntime's output (float32) for every
    /// model of the corpus it reads: the NCHW→channels-last turn, the permuted dense columns after
    /// Flatten/Reshape, padded max pooling, BN, MatMul + Add, the NHWC Transpose and the dropped
    /// Softmax all agree.
    @Test func outputsEqualOnnxruntimes() throws {
        let bytes = try readWholeFile(corpus + "/onnxruntime-outputs.json", limit: 1 << 24)
        let doc = try JSONDocument.parse(bytes)
        let models = try #require(doc.root["models"])
        #expect(models.members.count >= 8)
        for (name, io) in models.members {
            let r = ModelFiles.load(path: corpus + "/" + name)
            let model = try #require(r.model, "\(name): \(r.diagnostics.map(\.description))")
            var input: [Double] = [], expected: [Double] = []
            _ = io["input"]?.appendNumbers(to: &input)
            _ = io["output"]?.appendNumbers(to: &expected)
            var out = PreparedModel(model).classify(input).output
            if io["softmax"]?.bool == true {
                // onnxruntime's output went through the Softmax snnc dropped.
                let m = out.max() ?? 0, e = out.map { Foundation.exp($0 - m) }, sum = e.reduce(0, +)
                out = e.map { $0 / sum }
            }
            #expect(out.count == expected.count, "\(name)")
            let scale = max(1, expected.map(abs).max() ?? 1)
            for (a, b) in zip(out, expected) { #expect(abs(a - b) <= 1e-5 * scale, "\(name): \(out) vs \(expected)") }
        }
    }

    /// The ResNet-8 example (torchvision BasicBlocks, trained on Fashion-MNIST) exported by
    /// torch.onnx.export (opset 20, BN folded into the convs, weights in external data,
    /// ReduceMean for the global pool) and by snnc_train (torch.fx, BN kept): on the first 200
    /// test images both give onnxruntime's logits within 1e-4 · max |logit|, the same classes,
    /// and the same spiking network (layers and neurons).
    @Test func resnet8BothExportsGiveOnnxruntimesLogits() throws {
        let dir = examples + "/resnet8-fashion"
        let onnx = try #require(ModelFiles.load(path: dir + "/model.onnx").model)
        let json = try #require(ModelFiles.load(path: dir + "/model.json").model)
        let data = try DataLoader.load(path: dir + "/test-data.json").get().prefix(200)
        let text = try String(contentsOfFile: dir + "/onnxruntime-logits-200.csv", encoding: .utf8)
        let ort = text.split(separator: "\n").map { $0.split(separator: ",").map { Double($0)! } }
        #expect(ort.count == 200)
        let scale = ort.flatMap { $0 }.map(abs).max() ?? 1
        for model in [onnx, json] {
            let out = BatchedANN(PreparedModel(model)).outputs(data.samples, threads: 2)
            var worst = 0.0
            for (a, b) in zip(out, ort) { for (x, y) in zip(a, b) { worst = max(worst, abs(x - y)) } }
            #expect(worst <= 1e-4 * scale, "\(model.file): max |Δ| \(worst), max |logit| \(scale)")
            #expect(out.map(argmax) == ort.map(argmax), "\(model.file)")
        }
        let a = try SpikingNetwork.lower(onnx).get(), b = try SpikingNetwork.lower(json).get()
        #expect(a.layers.map(\.neurons) == b.layers.map(\.neurons))
        #expect(a.layers.count == 8)  // seven ReLUs (graded ASNs) and the readout
    }
}
