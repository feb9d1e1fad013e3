// Which reader a model path goes to: `.onnx` files to the ONNX importer, `.nir` files to the NIR
// importer, everything else to the model-format-v1 loader. Every command that takes a model
// loads it here.
import SNNCIR

public enum ModelFiles {
    /// Whether `path` names an ONNX model (by its extension).
    public static func isONNX(_ path: String) -> Bool { path.lowercased().hasSuffix(".onnx") }

    /// Whether `path` names a NIR graph (by its extension).
    public static func isNIR(_ path: String) -> Bool { NIRLoader.isNIR(path) }

    public static func load(path: String, displayName: String? = nil, nir: NIROptions = NIROptions()) -> LoadResult {
        if isONNX(path) { return ONNXLoader.load(path: path, displayName: displayName) }
        if isNIR(path) { return NIRLoader.load(path: path, displayName: displayName, options: nir) }
        return ModelLoader.load(path: path, displayName: displayName)
    }
}

/// A value of an imported graph (ONNX, NIR) as snnc sees it: the snnc node producing it, its
/// shape in the source's channels-first order ([C, H, W] or [F], no batch), and for a flattened
/// C×H×W value that shape (the dense layer reading it permutes its columns to channels-last).
struct ImportedValue {
    var node: String
    var shape: [Int]
    var flattenedFrom: [Int]?
}

/// A model's name from its file: the last path component without the format's extension.
func modelBaseName(_ path: String, dropping ext: String) -> String {
    let last = path.split(separator: "/").last.map(String.init) ?? path
    return last.lowercased().hasSuffix(ext) ? String(last.dropLast(ext.count)) : last
}

/// Dense weights [out][in] whose input is a flattened C×H×W value (`flattenedFrom`, [C, H, W]),
/// columns permuted from the source's channel-major (c, h, w) order to snnc's channels-last
/// (h, w, c); unchanged without one. The one definition for every importer.
func channelsLastColumns(_ w: [Double], inF: Int, outF: Int, flattenedFrom s: [Int]?) -> [Double] {
    guard let s, s.count == 3, s[0] > 1 else { return w }
    return permuteColumns(w, inF: inF, outF: outF, c: s[0], h: s[1], w: s[2], toChannelsLast: true)
}

/// The inverse, for writing NIR: channels-last columns behind a flatten of an [H, W, C] value
/// (`flattenedFrom`, snnc's shape) back to channel-major order.
func channelMajorColumns(_ w: [Double], inF: Int, outF: Int, flattenedFrom s: [Int]?) -> [Double] {
    guard let s, s.count == 3, s[2] > 1 else { return w }
    return permuteColumns(w, inF: inF, outF: outF, c: s[2], h: s[0], w: s[1], toChannelsLast: false)
}

/// Column (c, h, w) channel-major is column (h, w, c) channels-last, per output row.
private func permuteColumns(_ m: [Double], inF: Int, outF: Int, c: Int, h: Int, w wd: Int, toChannelsLast: Bool) -> [Double] {
    var permuted = m
    for o in 0..<outF {
        for y in 0..<h {
            for x in 0..<wd {
                for ch in 0..<c {
                    let last = o * inF + (y * wd + x) * c + ch, major = o * inF + (ch * h + y) * wd + x
                    if toChannelsLast { permuted[last] = m[major] } else { permuted[major] = m[last] }
                }
            }
        }
    }
    return permuted
}
