// One core's image (Docs/artefact.md, `cores.bin`): what the compiler loads into a core — its
// blocks' compartments with their biases and neuron wiring (the neuron-parameter block), its
// input axons with their synapse rows, and its synapse memory — encoded by the compiler's `emit`
// pass and decoded by the emulator. The output-axon table stays in axon-tables.bin.
//
// Synapse memory is a list of runs: run = (first target compartment, length, weight offset);
// synapse k of a run adds weights[offset + k] into compartment target + k. A range whose
// storage is `shared` holds a conv kernel once (what the core's memory holds: the kernel slice
// of its channels, [ky][kx][in][out]); an `explicit` range's runs are each `length` synapses in
// the chip's memory — the artefact stores each distinct run of weights once, and a loader
// writes every run out in full.

/// How an input axon's spike adds into its targets (Docs/fixed-point.md, "synaptic input").
public enum SynapseMode: UInt8, Sendable {
    /// acc += w (w in the target's state LSBs).
    case binary = 0
    /// acc += rshift(w · payload, shift).
    case graded = 1
    /// acc += payload (a dendrite block's partial current).
    case partial = 2
}

/// What a range of axons came from (events and reports; identity and partial synapses count as
/// events even at weight 0, dense and conv ones only when their weight is not 0).
public enum SynapseSource: UInt8, Sendable { case dense = 0, conv = 1, identity = 2, partial = 3 }

public enum SynapseStorage: UInt8, Sendable { case explicit = 0, shared = 1 }

/// Every core's image as cores.bin stores it: the file's bytes ("SNNCCOR1", then each image's
/// `CoreImage.encoded()` as a zlib stream) and, per core, its offset, stored and encoded sizes.
public struct StoredImages: Sendable {
    public private(set) var bin: [UInt8] = Array(ArtefactFormat.coreImagesMagic.utf8)
    public private(set) var at: [(offset: Int, bytes: Int, raw: Int)] = []
    public var count: Int { at.count }
    public init() {}

    public mutating func append(compressed: [UInt8], raw: Int) {
        at.append((bin.count, compressed.count, raw))
        bin += compressed
    }

    /// Core `c`'s zlib stream.
    public func compressed(_ c: Int) -> ArraySlice<UInt8> { bin[at[c].offset..<(at[c].offset + at[c].bytes)] }
}

public struct CoreImage: Sendable, Equatable {
    public struct Block: Sendable, Equatable {
        /// Index into layers.json's layers.
        public var layer: Int
        public var dendrite: Bool
        /// First output (index into the core's output-axon table) of the block.
        public var firstOutput: Int
        /// Per compartment: its index in the layer (row-major H × W × C of the compartment shape).
        public var layerCompartment: [Int32]
        /// Per compartment: bias in the layer's state LSBs (0 on dendrite blocks and the readout).
        public var bias: [Int64]
        /// Soma blocks: per neuron its index in the layer, and (CSR) its compartments, core-local
        /// within the block — one for a plain neuron, its pool window for a max-pooled one.
        public var layerNeuron: [Int32]
        public var poolStart: [Int32]
        public var poolCompartment: [Int32]

        public init(layer: Int, dendrite: Bool, firstOutput: Int, layerCompartment: [Int32], bias: [Int64], layerNeuron: [Int32], poolStart: [Int32], poolCompartment: [Int32]) {
            self.layer = layer
            self.dendrite = dendrite
            self.firstOutput = firstOutput
            self.layerCompartment = layerCompartment
            self.bias = bias
            self.layerNeuron = layerNeuron
            self.poolStart = poolStart
            self.poolCompartment = poolCompartment
        }
    }

    public struct Range: Sendable, Equatable {
        public var firstAxon: Int, axons: Int
        /// The block (index into `blocks`) whose compartments the range's synapses target.
        public var block: Int
        public var mode: SynapseMode
        public var source: SynapseSource
        public var storage: SynapseStorage
        /// Graded: the shift of rshift(w · payload, shift); binary: the weights' conversion
        /// from mantissa to state LSBs, w = rshift(m, shift) saturated to 32 bits.
        public var shift: Int
        /// The range's weights: weights[weightStart ..< weightStart + weightCount].
        public var weightStart: Int, weightCount: Int

        public init(firstAxon: Int, axons: Int, block: Int, mode: SynapseMode, source: SynapseSource, storage: SynapseStorage, shift: Int, weightStart: Int, weightCount: Int) {
            self.firstAxon = firstAxon
            self.axons = axons
            self.block = block
            self.mode = mode
            self.source = source
            self.storage = storage
            self.shift = shift
            self.weightStart = weightStart
            self.weightCount = weightCount
        }
    }

    public var blocks: [Block] = []
    public var ranges: [Range] = []
    /// CSR over input axons: axon a's runs are runs[rowStart[a] ..< rowStart[a + 1]].
    public var rowStart: [Int32] = [0]
    /// Runs, three Int32 each: target (core-local compartment), length, weight offset.
    public var runs: [Int32] = []
    /// Weight mantissas (binary: before the conversion to state LSBs).
    public var weights: [Int32] = []
    /// Bytes per stored weight: 2 when the profile's weights have ≤ 16 bits, else 4.
    public var weightBytes = 4

    public init() {}

    public var compartments: Int { blocks.reduce(0) { $0 + $1.layerCompartment.count } }
    public var axons: Int { rowStart.count - 1 }
    public var runCount: Int { runs.count / 3 }

    /// Synapses in the core's memory: a shared range's stored kernel, an explicit range's runs
    /// in full.
    public var synapses: Int {
        ranges.reduce(0) { acc, r in
            if r.storage == .shared { return acc + r.weightCount }
            var n = 0
            for a in r.firstAxon..<(r.firstAxon + r.axons) {
                for k in Int(rowStart[a])..<Int(rowStart[a + 1]) { n += Int(runs[3 * k + 1]) }
            }
            return acc + n
        }
    }

    // MARK: encoding

    public func encoded() -> [UInt8] {
        var o: [UInt8] = []
        o.reserveCapacity(4 * (rowStart.count + runs.count + weights.count + 8 * ranges.count + 8)
                          + blocks.reduce(0) { $0 + 20 + 4 * ($1.layerCompartment.count + $1.layerNeuron.count + $1.poolStart.count + $1.poolCompartment.count) + 8 * $1.bias.count })
        func u32(_ v: Int) { ArtefactFormat.le32(Int32(truncatingIfNeeded: v), &o) }
        func i64(_ v: Int64) { ArtefactFormat.le64(Double(bitPattern: UInt64(bitPattern: v)), &o) }
        u32(blocks.count)
        for b in blocks {
            u32(b.layer); u32(b.dendrite ? 1 : 0); u32(b.firstOutput); u32(b.layerCompartment.count); u32(b.layerNeuron.count)
            ArtefactFormat.le32(b.layerCompartment, &o)
            for v in b.bias { i64(v) }
            if !b.dendrite {
                ArtefactFormat.le32(b.layerNeuron, &o)
                ArtefactFormat.le32(b.poolStart, &o)
                ArtefactFormat.le32(b.poolCompartment, &o)
            }
        }
        u32(ranges.count)
        for r in ranges {
            u32(r.firstAxon); u32(r.axons); u32(r.block)
            o += [r.mode.rawValue, r.source.rawValue, r.storage.rawValue, 0]
            ArtefactFormat.le32(Int32(truncatingIfNeeded: r.shift), &o)
            u32(r.weightStart); u32(r.weightCount)
        }
        u32(axons)
        ArtefactFormat.le32(rowStart, &o)
        u32(runCount)
        ArtefactFormat.le32(runs, &o)
        u32(weightBytes); u32(weights.count)
        if weightBytes == 2 {
            for w in weights { let u = UInt16(bitPattern: Int16(truncatingIfNeeded: w)); o.append(UInt8(u & 0xFF)); o.append(UInt8(u >> 8)) }
        } else {
            ArtefactFormat.le32(weights, &o)
        }
        return o
    }

    // MARK: decoding

    /// Decodes and checks an image: every count within `limit`, every index in range — so the
    /// emulator can run it without a bounds check failing. `layerSizes`: per layer, its
    /// (compartments, neurons).
    public static func decode(_ bytes: ArraySlice<UInt8>, core: Int, layerSizes: [(compartments: Int, neurons: Int)], limit: Int = 1 << 28) throws(ArtefactError) -> CoreImage {
        var r = ByteCursor(bytes: bytes, core: core)
        var img = CoreImage()
        let nb = try r.count(1 << 16, "blocks")
        var total = 0
        for _ in 0..<nb {
            let layer = try r.count(layerSizes.count - 1, "a block's layer")
            let role = try r.count(1, "a block's role")
            let first = try r.count(1 << 28, "a block's first output")
            let comps = try r.count(limit, "a block's compartments")
            let neurons = try r.count(limit, "a block's neurons")
            let size = layerSizes[layer]
            let lc = try r.int32s(comps)
            guard lc.allSatisfy({ $0 >= 0 && Int($0) < size.compartments }) else { throw r.fail("a compartment index beyond its layer's \(size.compartments)") }
            let bias = try r.int64s(comps)
            var b = Block(layer: layer, dendrite: role == 1, firstOutput: first, layerCompartment: lc, bias: bias, layerNeuron: [], poolStart: [0], poolCompartment: [])
            if role == 0 {
                b.layerNeuron = try r.int32s(neurons)
                guard b.layerNeuron.allSatisfy({ $0 >= 0 && Int($0) < size.neurons }) else { throw r.fail("a neuron index beyond its layer's \(size.neurons)") }
                b.poolStart = try r.int32s(neurons + 1)
                guard b.poolStart.first == 0, zip(b.poolStart, b.poolStart.dropFirst()).allSatisfy({ $0 < $1 }), let last = b.poolStart.last, Int(last) <= limit else {
                    throw r.fail("a block's pool starts are not increasing")
                }
                b.poolCompartment = try r.int32s(Int(last))
                guard b.poolCompartment.allSatisfy({ $0 >= 0 && Int($0) < comps }) else { throw r.fail("a pool window names a compartment the block does not hold") }
            } else if neurons != 0 {
                throw r.fail("a dendrite block with neurons")
            }
            total += comps
            guard total <= limit else { throw r.fail("more than \(limit) compartments") }
            img.blocks.append(b)
        }
        let nr = try r.count(1 << 20, "ranges")
        var ranges: [Range] = []
        for _ in 0..<nr {
            let first = try r.count(limit, "a range's first axon"), n = try r.count(limit, "a range's axons"), blk = try r.count(max(0, nb - 1), "a range's block")
            let m = try r.byte(), s = try r.byte(), st = try r.byte()
            _ = try r.byte()
            guard let mode = SynapseMode(rawValue: m), let source = SynapseSource(rawValue: s), let storage = SynapseStorage(rawValue: st) else { throw r.fail("a range's mode, source or storage is unknown") }
            let shift = Int(try r.int32())
            guard (-62...62).contains(shift) else { throw r.fail("a range's shift \(shift) is beyond ±62") }
            let ws = try r.count(limit, "a range's weight start"), wc = try r.count(limit, "a range's weight count")
            ranges.append(Range(firstAxon: first, axons: n, block: blk, mode: mode, source: source, storage: storage, shift: shift, weightStart: ws, weightCount: wc))
        }
        let axons = try r.count(limit, "input axons")
        img.rowStart = try r.int32s(axons + 1)
        let runs = try r.count(limit, "runs")
        guard img.rowStart.first == 0, zip(img.rowStart, img.rowStart.dropFirst()).allSatisfy({ $0 <= $1 }), Int(img.rowStart[axons]) == runs else {
            throw r.fail("the axons' row starts are not increasing up to the \(runs) runs")
        }
        img.runs = try r.int32s(3 * runs)
        let wb = try r.count(4, "weight bytes")
        guard wb == 2 || wb == 4 else { throw r.fail("weights of \(wb) bytes (2 or 4)") }
        img.weightBytes = wb
        let nw = try r.count(limit, "weights")
        img.weights = wb == 2 ? try r.int16s(nw) : try r.int32s(nw)
        guard r.atEnd else { throw r.fail("\(r.remaining) bytes after the weights") }
        // Every range covers its axons, every axon is in exactly one range, every run lies in its
        // range's weights and its block's compartments.
        var owner = [Int32](repeating: -1, count: axons)
        var base: [Int] = [], acc = 0
        for b in img.blocks { base.append(acc); acc += b.layerCompartment.count }
        for (ri, g) in ranges.enumerated() {
            guard g.block < img.blocks.count, g.firstAxon + g.axons <= axons, g.weightStart + g.weightCount <= nw else { throw r.fail("range \(ri) lies beyond the core's axons or weights") }
            let blo = base[g.block], bhi = blo + img.blocks[g.block].layerCompartment.count
            for a in g.firstAxon..<(g.firstAxon + g.axons) {
                guard owner[a] < 0 else { throw r.fail("axon \(a) is in two ranges") }
                owner[a] = Int32(ri)
                for k in Int(img.rowStart[a])..<Int(img.rowStart[a + 1]) {
                    let t = Int(img.runs[3 * k]), len = Int(img.runs[3 * k + 1]), w = Int(img.runs[3 * k + 2])
                    guard t >= blo, len >= 1, len <= bhi - t, w >= g.weightStart, len <= g.weightStart + g.weightCount - w else {
                        throw r.fail("run \(k) of axon \(a) lies outside its block's compartments or its range's weights")
                    }
                }
            }
        }
        guard owner.allSatisfy({ $0 >= 0 }) else { throw r.fail("an input axon in no range") }
        img.ranges = ranges
        return img
    }
}

/// A bounds-checked little-endian reader over one core's image.
struct ByteCursor {
    let bytes: ArraySlice<UInt8>
    let core: Int
    var at: Int

    init(bytes: ArraySlice<UInt8>, core: Int) {
        self.bytes = bytes
        self.core = core
        at = bytes.startIndex
    }

    var remaining: Int { bytes.endIndex - at }
    var atEnd: Bool { at == bytes.endIndex }

    func fail(_ what: String) -> ArtefactError { ArtefactError(file: ArtefactFormat.coreImages, message: "core \(core): \(what)") }

    mutating func need(_ n: Int) throws(ArtefactError) {
        guard n >= 0, n <= remaining else { throw fail("the image ends early") }
    }

    mutating func byte() throws(ArtefactError) -> UInt8 {
        try need(1)
        defer { at += 1 }
        return bytes[at]
    }

    mutating func int32() throws(ArtefactError) -> Int32 {
        try need(4)
        defer { at += 4 }
        return Int32(bitPattern: UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24)
    }

    /// A u32 count in 0…max.
    mutating func count(_ max: Int, _ what: String) throws(ArtefactError) -> Int {
        let v = Int(UInt32(bitPattern: try int32()))
        guard v <= max else { throw fail("\(what) is \(v); at most \(max)") }
        return v
    }

    /// n little-endian integers of T's width.
    mutating func integers<T: FixedWidthInteger>(_ n: Int, _: T.Type) throws(ArtefactError) -> [T] {
        let w = MemoryLayout<T>.size
        try need(n <= Int.max / w ? w * n : -1)
        var out = [T](repeating: 0, count: n)
        var p = at
        for i in 0..<n {
            var u: T.Magnitude = 0
            for k in 0..<w { u |= T.Magnitude(bytes[p + k]) << (8 * k) }
            out[i] = T(truncatingIfNeeded: u)
            p += w
        }
        at = p
        return out
    }

    mutating func int32s(_ n: Int) throws(ArtefactError) -> [Int32] { try integers(n, Int32.self) }
    mutating func int64s(_ n: Int) throws(ArtefactError) -> [Int64] { try integers(n, Int64.self) }
    mutating func int16s(_ n: Int) throws(ArtefactError) -> [Int32] { try integers(n, Int16.self).map(Int32.init) }
}
