// Which reader a model path goes to: `.onnx` files to the ONNX importer, everything else to the
// model-format-v1 loader. Every command that takes a model loads it here.
import SNNCIR

public enum ModelFiles {
    /// Whether `path` names an ONNX model (by its extension).
    public static func isONNX(_ path: String) -> Bool { path.lowercased().hasSuffix(".onnx") }

    public static func load(path: String, displayName: String? = nil) -> LoadResult {
        if isONNX(path) { return ONNXLoader.load(path: path, displayName: displayName) }
        return ModelLoader.load(path: path, displayName: displayName)
    }
}
