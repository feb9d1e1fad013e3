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
