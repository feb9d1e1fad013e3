// Compile-scale models with synthetic weights. No CIFAR or ImageNet data can be had where snnc
// is built, so these networks are UNTRAINED: He-initialised weights and plausible batch-norm
// statistics from a fixed seed. They exercise the loader, compiler and mapper at the paper's
// sizes; they classify nothing. Every file they produce says so in its "comment".
import SNNCIR
import SNNCJSON

public enum SyntheticModels {
    public static let untrainedNote =
        "UNTRAINED: synthetic He-initialised weights and batch-norm statistics from a fixed seed, for compile-scale work only; no CIFAR/ImageNet data was used."

    public static let names = ["resnet18-imagenet", "vgg-cifar10", "mnist-paper", "mlp-inline-1m", "mlp-2000", "mlp-mnist-3584"]

    public static func make(_ name: String, placement: ModelWriter.TensorPlacement, seed: UInt64 = 1) -> ModelWriter? {
        switch name {
        case "resnet18-imagenet": return resnet18(placement: placement, seed: seed)
        case "vgg-cifar10": return vggCifar10(placement: placement, seed: seed)
        case "mnist-paper": return mnistPaper(placement: placement, seed: seed)
        case "mlp-inline-1m": return mlp1M(placement: placement, seed: seed)
        case "mlp-2000": return mlp2000(placement: placement, seed: seed)
        case "mlp-mnist-3584": return mlpMNIST3584(placement: placement, seed: seed)
        default: return nil
        }
    }

    /// Adds conv → (later BN/ASN by the caller); He-normal kernel in OIHW.
    static func conv(_ w: inout ModelWriter, _ rng: inout SeededRandom, _ name: String, input: String,
                     inC: Int, outC: Int, k: Int, stride: Int = 1, padding: String = "same", bias: Bool = false) {
        let std = (2.0 / Double(inC * k * k)).squareRoot()
        let values = (0..<(outC * inC * k * k)).map { _ in Float(rng.normal() * std) }
        var fields: [(String, JSONOutput)] = [("stride", .int(stride)), ("padding", .string(padding)),
                                              ("weight", w.tensor(name + ".weight", [outC, inC, k, k], values))]
        if bias { fields.append(("bias", w.tensor(name + ".bias", [outC], (0..<outC).map { _ in Float(rng.normal() * 0.01) }))) }
        w.add(name, .conv2d, inputs: [input], fields)
    }

    static func batchnorm(_ w: inout ModelWriter, _ rng: inout SeededRandom, _ name: String, input: String, channels c: Int) {
        let gamma = (0..<c).map { _ in Float(1 + 0.1 * rng.normal()) }
        let beta = (0..<c).map { _ in Float(0.1 * rng.normal()) }
        let mean = (0..<c).map { _ in Float(0.5 * rng.normal()) }
        let variance = (0..<c).map { _ in Float(0.5 + 1.5 * rng.uniform()) }
        w.add(name, .batchnorm, inputs: [input], [
            ("gamma", w.tensor(name + ".gamma", [c], gamma)), ("beta", w.tensor(name + ".beta", [c], beta)),
            ("mean", w.tensor(name + ".mean", [c], mean)), ("var", w.tensor(name + ".var", [c], variance)),
            ("eps", .double(1e-5)),
        ])
    }

    static func dense(_ w: inout ModelWriter, _ rng: inout SeededRandom, _ name: String, input: String, inF: Int, outF: Int) {
        let std = (2.0 / Double(inF)).squareRoot()
        let weight = (0..<(outF * inF)).map { _ in Float(rng.normal() * std) }
        let bias = (0..<outF).map { _ in Float(rng.normal() * 0.01) }
        w.add(name, .dense, inputs: [input], [("weight", w.tensor(name + ".weight", [outF, inF], weight)),
                                             ("bias", w.tensor(name + ".bias", [outF], bias))])
    }

    /// ResNet-18 in the identity-mapping (pre-activation) variant of He et al. 2016, 224×224×3
    /// input, 1000 classes: 11.7 M parameters. Each block: BN → ASN → conv3×3 → BN → ASN →
    /// conv3×3, plus the shortcut (identity, or a strided 1×1 conv on the pre-activated input).
    public static func resnet18(placement: ModelWriter.TensorPlacement, seed: UInt64) -> ModelWriter {
        var rng = SeededRandom(seed: seed)
        var w = ModelWriter(name: "resnet18-imagenet", placement: placement, asnDefaults: ModelWriter.paperASNDefaults(theta0: 0.15),
                            comment: "ResNet-18, identity-mapping variant, ImageNet 224×224. " + untrainedNote)
        w.add("image", .input, inputs: [], [("shape", .array([.int(224), .int(224), .int(3)]))])
        batchnorm(&w, &rng, "bn_in", input: "image", channels: 3)
        w.add("asn_in", .asn, inputs: ["bn_in"])
        conv(&w, &rng, "conv1", input: "asn_in", inC: 3, outC: 64, k: 7, stride: 2)
        batchnorm(&w, &rng, "bn1", input: "conv1", channels: 64)
        w.add("asn1", .asn, inputs: ["bn1"])
        w.add("pool1", .maxpool2d, inputs: ["asn1"], [("size", .int(3)), ("stride", .int(2)), ("padding", .string("same"))])
        var x = "pool1"
        var inC = 64
        for (stage, outC) in [64, 128, 256, 512].enumerated() {
            for block in 0..<2 {
                let p = "s\(stage + 1)b\(block + 1)"
                let stride = (block == 0 && stage > 0) ? 2 : 1
                // Stage 1's first block follows the stem's BN+ASN+pool directly; every other block
                // pre-activates its input.
                let pre: String
                if stage == 0 && block == 0 {
                    pre = x
                } else {
                    batchnorm(&w, &rng, p + "_bn_a", input: x, channels: inC)
                    w.add(p + "_asn_a", .asn, inputs: [p + "_bn_a"])
                    pre = p + "_asn_a"
                }
                conv(&w, &rng, p + "_conv_a", input: pre, inC: inC, outC: outC, k: 3, stride: stride)
                batchnorm(&w, &rng, p + "_bn_b", input: p + "_conv_a", channels: outC)
                w.add(p + "_asn_b", .asn, inputs: [p + "_bn_b"])
                conv(&w, &rng, p + "_conv_b", input: p + "_asn_b", inC: outC, outC: outC, k: 3)
                var shortcut = x
                if stride != 1 || inC != outC {
                    conv(&w, &rng, p + "_proj", input: pre, inC: inC, outC: outC, k: 1, stride: stride, padding: "valid")
                    shortcut = p + "_proj"
                }
                w.add(p + "_add", .add, inputs: [p + "_conv_b", shortcut])
                x = p + "_add"
                inC = outC
            }
        }
        batchnorm(&w, &rng, "bn_final", input: x, channels: 512)
        w.add("asn_final", .asn, inputs: ["bn_final"])
        w.add("gap", .avgpool2d, inputs: ["asn_final"], [("size", .int(7))])
        w.add("flat", .flatten, inputs: ["gap"])
        dense(&w, &rng, "fc", input: "flat", inF: 512, outF: 1000)
        w.add("out", .readout, inputs: ["fc"])
        return w
    }

    /// The paper's 12-layer VGG for CIFAR-10: 32×32 – 2×(c64×3) – m2 – 2×(c128×3) – m2 –
    /// 3×(c256×3) – m2 – 3×(c512×3) – m2 – d512 – 10, BN after every weighted layer.
    public static func vggCifar10(placement: ModelWriter.TensorPlacement, seed: UInt64) -> ModelWriter {
        var rng = SeededRandom(seed: seed)
        var w = ModelWriter(name: "vgg-cifar10", placement: placement, asnDefaults: ModelWriter.paperASNDefaults(theta0: 0.1),
                            comment: "The paper's 12-layer VGG for CIFAR-10 (32×32×3). " + untrainedNote)
        w.add("image", .input, inputs: [], [("shape", .array([.int(32), .int(32), .int(3)]))])
        batchnorm(&w, &rng, "bn_in", input: "image", channels: 3)
        w.add("asn_in", .asn, inputs: ["bn_in"])
        var x = "asn_in"
        var inC = 3
        var layer = 0
        for (stage, (count, outC)) in [(2, 64), (2, 128), (3, 256), (3, 512)].enumerated() {
            for _ in 0..<count {
                layer += 1
                conv(&w, &rng, "conv\(layer)", input: x, inC: inC, outC: outC, k: 3, bias: true)
                batchnorm(&w, &rng, "bn\(layer)", input: "conv\(layer)", channels: outC)
                w.add("asn\(layer)", .asn, inputs: ["bn\(layer)"])
                x = "asn\(layer)"
                inC = outC
            }
            w.add("pool\(stage + 1)", .maxpool2d, inputs: [x], [("size", .int(2))])
            x = "pool\(stage + 1)"
        }
        w.add("flat", .flatten, inputs: [x])
        dense(&w, &rng, "fc1", input: "flat", inF: 2 * 2 * 512, outF: 512)
        batchnorm(&w, &rng, "bn_fc1", input: "fc1", channels: 512)
        w.add("asn_fc1", .asn, inputs: ["bn_fc1"])
        dense(&w, &rng, "fc2", input: "asn_fc1", inF: 512, outF: 10)
        w.add("out", .readout, inputs: ["fc2"])
        return w
    }

    /// The paper's MNIST architecture, 28×28 – c64×3 – m2 – c128×3 – c128×3 – m2 – d256 – d50 –
    /// 10, BN after every weighted layer and a BN + ASN input layer; untrained.
    public static func mnistPaper(placement: ModelWriter.TensorPlacement, seed: UInt64) -> ModelWriter {
        var rng = SeededRandom(seed: seed)
        var w = ModelWriter(name: "mnist-paper-untrained", placement: placement, asnDefaults: ModelWriter.paperASNDefaults(theta0: 0.1),
                            comment: "The paper's MNIST conv net architecture. " + untrainedNote)
        w.add("image", .input, inputs: [], [("shape", .array([.int(28), .int(28), .int(1)]))])
        batchnorm(&w, &rng, "bn_in", input: "image", channels: 1)
        w.add("asn_in", .asn, inputs: ["bn_in"])
        conv(&w, &rng, "conv1", input: "asn_in", inC: 1, outC: 64, k: 3, bias: true)
        batchnorm(&w, &rng, "bn1", input: "conv1", channels: 64)
        w.add("asn1", .asn, inputs: ["bn1"])
        w.add("pool1", .maxpool2d, inputs: ["asn1"], [("size", .int(2))])
        conv(&w, &rng, "conv2", input: "pool1", inC: 64, outC: 128, k: 3, bias: true)
        batchnorm(&w, &rng, "bn2", input: "conv2", channels: 128)
        w.add("asn2", .asn, inputs: ["bn2"])
        conv(&w, &rng, "conv3", input: "asn2", inC: 128, outC: 128, k: 3, bias: true)
        batchnorm(&w, &rng, "bn3", input: "conv3", channels: 128)
        w.add("asn3", .asn, inputs: ["bn3"])
        w.add("pool2", .maxpool2d, inputs: ["asn3"], [("size", .int(2))])
        w.add("flat", .flatten, inputs: ["pool2"])
        dense(&w, &rng, "fc1", input: "flat", inF: 7 * 7 * 128, outF: 256)
        batchnorm(&w, &rng, "bn4", input: "fc1", channels: 256)
        w.add("asn4", .asn, inputs: ["bn4"])
        dense(&w, &rng, "fc2", input: "asn4", inF: 256, outF: 50)
        batchnorm(&w, &rng, "bn5", input: "fc2", channels: 50)
        w.add("asn5", .asn, inputs: ["bn5"])
        dense(&w, &rng, "fc3", input: "asn5", inF: 50, outF: 10)
        w.add("out", .readout, inputs: ["fc3"])
        return w
    }

    /// An MLP with 1,012,010 weights (1000-1000-10) meant to be written inline, for the
    /// inline-JSON load benchmark.
    public static func mlp1M(placement: ModelWriter.TensorPlacement, seed: UInt64) -> ModelWriter {
        squareMLP("mlp-inline-1m", width: 1000, comment: "1000-1000-10 MLP with about one million inline numbers. ", placement: placement, seed: seed)
    }

    /// A dense 2000 → 2000 → 10 network (2000 input features): the mapper's case of a layer whose
    /// fan-in is a whole core's input axons on Loihi and whose synapses fill many cores.
    public static func mlp2000(placement: ModelWriter.TensorPlacement, seed: UInt64) -> ModelWriter {
        squareMLP("mlp-2000", width: 2000, comment: "2000-2000-10 MLP. ", placement: placement, seed: seed)
    }

    /// width input features → ASN → dense width → ASN → dense 10 → readout.
    static func squareMLP(_ name: String, width n: Int, comment: String, placement: ModelWriter.TensorPlacement, seed: UInt64) -> ModelWriter {
        var rng = SeededRandom(seed: seed)
        var w = ModelWriter(name: name, placement: placement, asnDefaults: ModelWriter.paperASNDefaults(), comment: comment + untrainedNote)
        w.add("x", .input, inputs: [], [("shape", .array([.int(n)]))])
        w.add("a0", .asn, inputs: ["x"])
        dense(&w, &rng, "fc1", input: "a0", inF: n, outF: n)
        w.add("a1", .asn, inputs: ["fc1"])
        dense(&w, &rng, "fc2", input: "a1", inF: n, outF: 10)
        w.add("out", .readout, inputs: ["fc2"])
        return w
    }

    /// A 784 → 3584 → 3584 → 10 network on MNIST-shaped input (28×28×1, BN + ASN input layer):
    /// 15.6 M synapses, more cores than two Loihi chips hold (`asn2`'s synapses fill 196 cores,
    /// and each `asn1` neuron reaches all of them), for multi-chip boards; run it on MNIST images.
    public static func mlpMNIST3584(placement: ModelWriter.TensorPlacement, seed: UInt64) -> ModelWriter {
        var rng = SeededRandom(seed: seed)
        var w = ModelWriter(name: "mlp-mnist-3584", placement: placement, asnDefaults: ModelWriter.paperASNDefaults(),
                            comment: "784-3584-3584-10 MLP on 28×28×1 input. " + untrainedNote)
        w.add("image", .input, inputs: [], [("shape", .array([.int(28), .int(28), .int(1)]))])
        batchnorm(&w, &rng, "bn_in", input: "image", channels: 1)
        w.add("asn_in", .asn, inputs: ["bn_in"])
        w.add("flat", .flatten, inputs: ["asn_in"])
        dense(&w, &rng, "fc1", input: "flat", inF: 784, outF: 3584)
        w.add("asn1", .asn, inputs: ["fc1"])
        dense(&w, &rng, "fc2", input: "asn1", inF: 3584, outF: 3584)
        w.add("asn2", .asn, inputs: ["fc2"])
        dense(&w, &rng, "fc3", input: "asn2", inF: 3584, outF: 10)
        w.add("out", .readout, inputs: ["fc3"])
        return w
    }
}
