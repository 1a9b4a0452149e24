// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include "instancelistmodel.h"

#include <QWidget>

namespace wsserve {

// A small live line chart painted with QPainter: one series of an instance's recent history
// (messages/s in, out, or connected clients) over the last minutes. Thread: GUI thread.
class StatsChart final : public QWidget
{
    Q_OBJECT

public:
    enum class Series { Invalid = 0, MessagesIn, MessagesOut, Clients };

    StatsChart(Series series, QString title, QColor colour, QWidget *parent = nullptr);
    void setSamples(const QList<StatsSample> &samples);
    QSize sizeHint() const override { return {360, 120}; }

protected:
    void paintEvent(QPaintEvent *event) override;

private:
    double valueOf(const StatsSample &sample) const;

    Series m_series = Series::Invalid;
    QString m_title;
    QColor m_colour;
    QList<StatsSample> m_samples;
};

} // namespace wsserve
