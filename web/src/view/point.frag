// A point as a flat disc; centrality falls off towards its rim like a sphere's chord.

in vec4 vColour;
in float vDepthView;

out vec4 fragColour;

void main() {
  vec2 offset = 2.0 * gl_PointCoord - 1.0;
  float radial = dot(offset, offset);
  if (radial > 1.0) discard;
  float alpha = opacity(vColour.a, relativeDepth(vDepthView), sqrt(1.0 - radial));
  if (alpha <= 0.0) discard;
  fragColour = overWhite(vColour.rgb, alpha);
}
