// Lines take the transparent opacity with a full-centrality hit (a line has no cross-section).

uniform float importanceThreshold;

in vec4 vColour;
in float vScore;
in float vDepthView;

out vec4 fragColour;

void main() {
  if (vScore <= importanceThreshold) discard;
  float alpha = opacity(vColour.a, relativeDepth(vDepthView), 1.0);
  if (alpha <= 0.0) discard;
  fragColour = overWhite(vColour.rgb, alpha);
}
