// Opacity of the transparent modes (docs/viewer.md), shared by every shader (prepended to each stage):
//   α = [(1 − I) + I·α_v] · [(1 − D) + D·ε] · ρ^γ · (1 − B) + B
// I importance opacity, D depth opacity, γ depth exponent, B base opacity; α_v the element's importance alpha,
// ε its relative depth (1 nearest, 0 farthest over the network's bounding sphere), ρ how central the ray hits.
// An importance term ≤ 0 (I > 1 on a weak element) hides the element entirely.

uniform float baseOpacity;
uniform float importanceOpacity;
uniform float depthOpacity;
uniform float depthExponent;
// View-space depths (−z) of the nearest and farthest point of the network's bounding sphere.
uniform vec2 depthRange;

const float MIN_CENTRALITY = 1e-4;  // keeps pow() defined at the silhouette

float relativeDepth(float depthView) {
  return 1.0 - clamp((depthView - depthRange.x) / max(depthRange.y - depthRange.x, 1e-6), 0.0, 1.0);
}

float importanceTerm(float alphaV) {
  return (1.0 - importanceOpacity) + importanceOpacity * alphaV;
}

float opacity(float alphaV, float epsilon, float centrality) {
  float importance = importanceTerm(alphaV);
  if (importance <= 0.0) return 0.0;
  float depthTerm = (1.0 - depthOpacity) + depthOpacity * epsilon;
  float shape = pow(max(centrality, MIN_CENTRALITY), depthExponent);
  return clamp(importance * depthTerm * shape * (1.0 - baseOpacity) + baseOpacity, 0.0, 1.0);
}

// Composited over the white background; the MIN blend then keeps the darkest, order-independently.
vec4 overWhite(vec3 rgb, float alpha) {
  return vec4(rgb * alpha + (1.0 - alpha), alpha);
}
