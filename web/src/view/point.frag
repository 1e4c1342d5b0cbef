// A point as a flat round dot with the transparent opacity (full centrality: a dot has no depth profile).

in vec4 vColour;
in float vDepthView;

out vec4 fragColour;

void main() {
  vec2 offset = 2.0 * gl_PointCoord - 1.0;
  if (dot(offset, offset) > 1.0) discard;
  float alpha = opacity(vColour.a, relativeDepth(vDepthView), 1.0);
  if (alpha <= 0.0) discard;
  fragColour = overWhite(vColour.rgb, alpha);
}
